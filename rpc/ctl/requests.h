// seedboxctl's request building: the JSON-RPC params made from what the user typed (id prefixes,
// files to add, rates, BTT amounts, KEY=VALUE settings, reference blocks).
#pragma once

#include "rpc/ctl/client.h"
#include "rpc/ctl/commands.h"

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace seedbox::ctl {

using json = nlohmann::json;

// Full ids from what the user typed: a full id, or a unique prefix of one.
[[nodiscard]] std::vector<std::string> resolve_ids(Client& c,
                                                   std::vector<std::string> const& given);
// In `call`'s params, "id" and "ids" may hold id prefixes, as everywhere else.
void resolve_param_ids(Client& c, json& params);
// `call`'s params text: a JSON object, or empty for {}.
[[nodiscard]] json call_params(std::string const& text);

// torrent.add's params for one item: a magnet link, an http(s) URL, or a .torrent file to read.
[[nodiscard]] json add_params(Args const& a, std::string const& item);
// torrent.set_files' changes from --skip, --want and --priority.
[[nodiscard]] json file_changes(Args const& a);
// Adds `limits`' options to torrent.set's params; none given is an error.
void add_limit_params(json& params, Args const& a);
// --ratio, --seed-time, --idle and --action as torrent.set's and labels.set's params.
void add_share_limits(json& params, Args const& a);
// torrent.create's params.
[[nodiscard]] json create_params(Args const& a);
// session.set_settings' params from KEY=VALUE words.
[[nodiscard]] json settings_changes(std::vector<std::string> const& settings);

// "20", "0.5", "1.25 BTT" -> base units (18 decimals), exactly, as a decimal string.
[[nodiscard]] std::string btt_amount(std::string text);
// A reference block for offline settlement, read from a file or "-" (stdin).
[[nodiscard]] json reference_block(std::string const& source);

} // namespace seedbox::ctl
