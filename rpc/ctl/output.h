// seedboxctl's output per subcommand: the tables, object listings and one-line confirmations it
// prints for a person (format.h formats the single values), --json's dump, and `top`'s screen.
#pragma once

#include <cstddef>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace seedbox::ctl {

using json = nlohmann::json;

void print_json(json const& j);                     // indented, for --json
[[nodiscard]] std::string short_id(json const& id); // first 8 characters, "-" when absent
void print_objects(json const& list);               // print_object() each, a blank line between

void print_torrents(json const& torrents); // `list`: the table and its totals row
void print_added(json const& results);     // `add`: one line per torrent.add result
// "<verb> <short id>" per id: "removed 0123abcd".
void print_done(std::string const& verb, std::vector<std::string> const& ids);
void print_moving(std::string const& id, std::string const& path);
void print_files(json const& files);
void print_peers(json const& peers); // with the FLAGS legend
void print_trackers(json const& trackers);
void print_created(json const& created, std::string const& output);
// Writes the .torrent in torrent.create's answer (base64 "metainfo") to path.
void write_metainfo(json const& created, std::string const& path);
void print_dialling(std::size_t count, std::string const& id);
void print_ledger_peers(json const& peers);
void print_ledger_summary(json const& summary); // without the per-torrent list
void print_batch(json const& batch);            // the batch, then its claims
void print_batches(json const& batches);
void print_settlement(json const& batch); // settlement.run: without transaction and claims
void print_ids(json const& torrents);     // `ids`: short ids, one a line

// One screen of `top`: the torrents by name with rates, peers and ETA, and the totals.
void print_top(std::map<std::string, json> const& torrents, bool tty);
// One line of `watch`: the time, method and params, or with --json {method, params}.
void print_event(std::string const& method, json const& params, bool json_out);

} // namespace seedbox::ctl
