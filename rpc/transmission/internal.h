// What the files of rpc/transmission share: the method table's shape, the error that becomes
// the response's "result" string (or a JSON-RPC error object), id resolution, and the pieces of
// Transmission 4.1's JSON-RPC 2.0 form (jsonrpc.cpp, names.cpp) that wrap the legacy handlers.
#pragma once

#include "config/settings.h"
#include "daemon/torrent/torrents.h"
#include "rpc/transmission/transmission.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace seedbox::rpc::transmission {

using json = nlohmann::json;

// Transmission 4.1's JSON-RPC error codes (its rpcimpl.h): JSON-RPC 2.0's own, then the ones
// Transmission adds, numbered from 1. Each has one fixed message (jsonrpc.cpp). Append only.
enum class Code : int {
    parse_error = -32700,
    invalid_request = -32600,
    method_not_found = -32601,
    invalid_params = -32602,
    internal_error = -32603,
    set_announce_list = 1,
    invalid_tracker_list = 2,
    path_not_absolute = 3,
    unrecognized_info = 4,
    system_error = 5,
    file_index_out_of_range = 6,
    piece_index_out_of_range = 7,
    http_error = 8,
    corrupt_torrent = 9,
};

// Thrown by a method: its message becomes "result" in the legacy form, and the JSON-RPC error's
// data.error_string. Without a code, the JSON-RPC form picks one from the message
// (code_of(message)), as 4.1 does for a legacy server's answer.
struct Failure : std::runtime_error {
    explicit Failure(std::string const& message, std::optional<Code> c = std::nullopt)
        : std::runtime_error(message), code(c)
    {
    }
    std::optional<Code> code;
};

// A method: arguments in, arguments out.
using Handler = json (*)(Context& ctx, json const& args);
struct MethodEntry {
    char const* name;
    Handler handler;
};
[[nodiscard]] std::vector<MethodEntry> const& session_methods();
[[nodiscard]] std::vector<MethodEntry> const& torrent_methods();

// The torrents `ids` names (absent: all): numbers (TorrentView::number), info-hash strings in any
// case, an array of both, or "recently-active". Unknown ids are skipped, as Transmission does.
// In the order asked for; each torrent once. When `ids` names some, `everything` (if given)
// receives every torrent too.
[[nodiscard]] std::vector<daemon::TorrentView>
pick(Context& ctx, json const& args, std::vector<daemon::TorrentView>* everything = nullptr);
// The same, as the engine's ids.
[[nodiscard]] std::vector<std::string> pick_ids(Context& ctx, json const& args);

// session-set (session_set.cpp).
[[nodiscard]] json session_set(Context& ctx, json const& args);

// torrent-set (torrent_set.cpp).
[[nodiscard]] json torrent_set(Context& ctx, json const& args);
// files-wanted, files-unwanted and priority-* (torrent-set's and torrent-add's) as the engine's
// file changes for torrent `id` (torrent_set.cpp).
[[nodiscard]] std::vector<daemon::FileChange> file_changes_of(Context& ctx, std::string const& id,
                                                              json const& args);

// slow.cpp: what may block, run on the slow pool. torrent-add's `filename` when it is a URL
// (fetched as torrent.add fetches URLs) or a path on the server (confined to the allowed roots):
// the .torrent's bytes. blocklist-update.
[[nodiscard]] std::string fetch_torrent_file(Context& ctx, std::string const& filename);
[[nodiscard]] json blocklist_update(Context& ctx, json const& args);
// True when `request` (parsed; an object or a batch) calls a method that may block: torrent-add
// with a filename that is no magnet link, torrent-rename-path, blocklist-update.
[[nodiscard]] bool wants_slow_pool(json const& request);

// torrent-get's requested fields, resolved once per call against the field table: the entries
// to compute, in the table's order (torrent_fields.cpp), and what some of them need from the
// whole session, gathered once per call (see_session) when they are asked for.
struct FieldList {
    std::vector<std::size_t> entries;
    bool needs_session = false; // queuePosition, peer-limit, maxConnectedPeers
    // Transmission numbers every torrent in one queue; libtorrent queues only the torrents that
    // are not finished (-1 for the rest). Those follow the queued ones, in the order of their
    // ids: torrent number -> position.
    std::unordered_map<std::int64_t, std::int64_t> after_queue{};
    std::int64_t peer_limit = 0; // a torrent's without its own: the session's connections_limit
};
[[nodiscard]] FieldList resolve_fields(std::vector<std::string> const& names);
// An integer session setting (0 when it is not one).
[[nodiscard]] std::int64_t int_setting(daemon::SessionSettings const& s, char const* key);

// Fills in what needs_session fields need, from every torrent (all of them, not only the
// requested ones).
void see_session(Context& ctx, FieldList& fields, std::vector<daemon::TorrentView> const& all);
// Those fields of one torrent.
[[nodiscard]] json torrent_object(Context& ctx, daemon::TorrentView const& t,
                                  FieldList const& fields);
// True when `name` is a torrent-get field this daemon knows.
[[nodiscard]] bool known_torrent_field(std::string const& name);

// A labels argument: strings without commas, none empty, no duplicates (Transmission's rules).
[[nodiscard]] std::vector<std::string> labels_of(json const& v);
// true/false, or 1/0 as Transmission also takes them; `key` names it in the error.
[[nodiscard]] bool boolean(json const& v, std::string const& key);

// The legacy method a name of the legacy form names (session-get, torrent-add, ...); null when
// there is none (envelope.cpp).
[[nodiscard]] Handler find_method(std::string const& name);

// What one call came to: the method's arguments, or the error that stopped it.
struct Outcome {
    bool ok = true;
    json arguments = json::object();
    std::string error{};              // the legacy "result" string
    Code code = Code::internal_error; // the JSON-RPC code of `error`
};
// Runs a handler, turning what it throws into the Outcome's error; never throws. `name` is for
// the log.
[[nodiscard]] Outcome run(Context& ctx, Handler handler, std::string const& name, json const& args);

// Why a body is refused before it is parsed (too deep, too costly to parse); empty when it is not.
[[nodiscard]] std::string too_big(Context& ctx, std::string_view body);

// The legacy envelope's answer (envelope.cpp): "result", "arguments", and `tag` when an integer.
[[nodiscard]] std::string legacy_answer(std::string const& result, json arguments, json const& tag);

// Transmission 4.1's JSON-RPC 2.0 form (jsonrpc.cpp), on the same path as the legacy one: a JSON
// object whose "jsonrpc" member is a string, or a JSON array (a batch). Each call is translated
// to the legacy method and names, run by the legacy handler, and its result translated back.
// Nothing (std::nullopt) when there is nothing to answer: a notification, or a batch of them.
[[nodiscard]] bool is_jsonrpc(json const& request);
[[nodiscard]] std::optional<std::string> jsonrpc_request(Context& ctx, json const& request);
// A body known to be in the JSON-RPC form before it is parsed (a batch; or one that mentions
// "jsonrpc" and cannot be parsed): too_big(), the parser's errors and rpc.max_batch answered as
// JSON-RPC errors.
[[nodiscard]] std::optional<std::string> jsonrpc_body(Context& ctx, std::string_view body);
// The JSON-RPC code of a daemon error, and of a legacy error message that came without one.
[[nodiscard]] Code code_of(daemon::Errc e);
[[nodiscard]] Code code_of(std::string_view message);

// 4.1's names (names.cpp, its one table). The legacy spelling of a 4.1 name: `name` itself when
// the table does not hold it (the same in both forms), nothing when `name` is a legacy-only
// spelling, which 4.1's JSON-RPC form does not know. `torrent`: in torrent-get or torrent-set
// (4.1's download_dir is downloadDir there, download-dir elsewhere).
[[nodiscard]] std::optional<std::string_view> legacy_name(std::string_view name, bool torrent);
// The 4.1 spelling of a legacy name (`legacy` itself when it has no other).
[[nodiscard]] std::string_view current_name(std::string_view legacy);
// A JSON-RPC request's params for the legacy handler of `method` (a 4.1 name): every key, and
// the names in `fields` and `ids`, in their legacy spelling (legacy-only spellings dropped);
// encryption "allowed" as "tolerated".
[[nodiscard]] json legacy_params(json const& params, std::string_view method);
// A legacy handler's arguments as 4.1's JSON-RPC result: every key, and a table-format header,
// in 4.1's spelling; `wanted` as booleans; encryption "tolerated" as "allowed".
[[nodiscard]] json current_result(json arguments);

// A daemon error as a result string (with its JSON-RPC code), thrown.
[[noreturn]] void fail(daemon::Error const& e);
template <class T> T value_of(daemon::Result<T> r)
{
    if (!r)
        fail(r.error());
    return std::move(r.value());
}
inline void check(daemon::Status st)
{
    if (!st)
        fail(st.error());
}

} // namespace seedbox::rpc::transmission
