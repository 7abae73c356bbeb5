// The torrent field table of torrent.list and torrent.get: each field's name, JSON Schema type,
// help and value, read from the engine's TorrentView. rpc.discover's torrent schema, the field
// check of `fields` and every torrent's JSON come from it. Another protocol's view of a torrent
// is to map from the same TorrentView, not from this JSON.
#pragma once

#include "daemon/torrent/torrents.h"
#include "rpc/json_text.h"

#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace seedbox::rpc {

// The TorrentView member a field reads: its type decides how the field is written, as a JSON
// value (torrent.get) or straight to text (torrent.list).
using TorrentMember =
    std::variant<std::string daemon::TorrentView::*, std::int64_t daemon::TorrentView::*,
                 double daemon::TorrentView::*, bool daemon::TorrentView::*,
                 std::vector<std::string> daemon::TorrentView::*,
                 daemon::TorrentState daemon::TorrentView::*>;

struct TorrentField {
    char const* name;
    char const* type; // its JSON Schema type
    char const* help;
    TorrentMember member;
};

// Every field, in the order rpc.discover lists them.
[[nodiscard]] std::span<TorrentField const> torrent_fields();
// What torrent.list answers when no fields are asked for.
[[nodiscard]] std::vector<std::string> const& default_torrent_fields();
// The fields named, in that order; an RpcError (invalid_params) names the first unknown one.
[[nodiscard]] std::vector<TorrentField const*>
resolve_torrent_fields(std::vector<std::string> const& names);
// A torrent as torrent.get / torrent.list answer it: exactly `fields`; as a JSON object, or
// written as one to `out` (the same JSON, without building the tree).
[[nodiscard]] nlohmann::json torrent_json(daemon::TorrentView const& t,
                                          std::vector<TorrentField const*> const& fields);
void write_torrent(JsonText& out, daemon::TorrentView const& t,
                   std::vector<TorrentField const*> const& fields);
// The JSON Schema of such an object: each field typed, state an enum, nothing else.
[[nodiscard]] nlohmann::json torrent_schema();

// torrent.files, torrent.peers and torrent.trackers entries.
[[nodiscard]] nlohmann::json to_json(daemon::FileView const& f);
[[nodiscard]] nlohmann::json to_json(daemon::PeerConnection const& p);
[[nodiscard]] nlohmann::json to_json(daemon::TrackerView const& t);

// torrent.set_files' `files` and a torrent.set_trackers list (URLs or {url, tier}), as the
// dispatcher checked them against the method's params.
[[nodiscard]] std::vector<daemon::FileChange> file_changes(nlohmann::json const& files);
[[nodiscard]] std::vector<daemon::TrackerSpec> tracker_specs(nlohmann::json const& list);

// ... and their schemas.
[[nodiscard]] nlohmann::json file_schema();
[[nodiscard]] nlohmann::json peer_schema();
[[nodiscard]] nlohmann::json tracker_schema();

} // namespace seedbox::rpc
