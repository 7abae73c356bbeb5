// torrent.*: thin handlers. Parse, call the engine, shape JSON. Params carry their ranges and
// allowed values; the dispatcher has checked them before a handler runs.
#include "config/settings.h"
#include "daemon/base/paths.h"
#include "daemon/torrent/engine.h"
#include "rpc/base64.h"
#include "rpc/fetch.h"
#include "rpc/method.h"
#include "rpc/methods/torrent_add.h"
#include "rpc/methods/torrent_fields.h"
#include "rpc/schema.h"

#include <atomic>

namespace seedbox::rpc {

namespace {

using daemon::Errc;

RpcError invalid(std::string const& msg)
{
    return {Err::invalid_params, msg};
}

json ok()
{
    return json{{"ok", true}};
}

json status(daemon::Status st)
{
    unwrap(std::move(st));
    return ok();
}

Param ids_param()
{
    return {"ids", Type::string_array, true, "torrent ids (info-hash hex)"};
}
Param id_param()
{
    return {"id", Type::string, true, "torrent id (info-hash hex)"};
}

// Written straight to text: at 10,000 torrents a JSON tree of the answer costs more than the
// rest of the call together.
json torrent_list(Call& call)
{
    auto names = call.arg<std::vector<std::string>>("fields");
    auto fields = resolve_torrent_fields(names.empty() ? default_torrent_fields() : names);
    auto limit = call.arg<std::int64_t>("limit", -1); // absent: everything
    auto after = call.arg<std::string>("after");
    std::optional<std::string> label;
    if (call.has("label"))
        label = call.arg<std::string>("label");
    bool const paging = limit > 0 || !after.empty();
    // A list of everything is sized like the last one: at 10,000 torrents it is megabytes, and
    // growing it by doubling copies it over and over.
    auto const ids = call.arg<std::vector<std::string>>("ids");
    bool const everything = !paging && ids.empty() && !label;
    static std::atomic<std::size_t> last_size{0};
    std::string text;
    if (everything)
        text.reserve(last_size.load(std::memory_order_relaxed) + 4096);
    text = "{\"torrents\":[";
    JsonText out(text);
    std::int64_t listed = 0;
    std::optional<std::string> next;
    std::string last; // the id of the page's last torrent
    bool started = after.empty();
    unwrap(call.engine().each(ids, label, [&](daemon::TorrentView const& t) {
        if (!started) {
            started = t.id == after;
            return true;
        }
        if (limit > 0 && listed == limit) {
            next = last;
            return false;
        }
        if (listed++ > 0)
            out.raw(',');
        write_torrent(out, t, fields);
        if (paging)
            last = t.id;
        return true;
    }));
    if (!started)
        throw RpcError(Err::torrent_not_found, "after: no torrent with id " + after);
    out.raw(']');
    if (paging) {
        out.raw(",\"next\":");
        if (next)
            out.string(*next);
        else
            out.null();
    }
    out.raw('}');
    if (everything)
        last_size.store(text.size(), std::memory_order_relaxed);
    call.answer_text(std::move(text));
    return nullptr;
}

json torrent_get(Call& call)
{
    auto names = call.arg<std::vector<std::string>>("fields");
    std::vector<TorrentField const*> fields;
    if (names.empty())
        for (auto const& f : torrent_fields())
            fields.push_back(&f);
    else
        fields = resolve_torrent_fields(names);
    return torrent_json(unwrap(call.engine().get(call.arg<std::string>("id"))), fields);
}

// Each entry of a list the engine returned, as JSON under `key`.
template <class T> json list_of(char const* key, std::vector<T> const& items)
{
    json out = json::array();
    for (auto const& i : items)
        out.push_back(to_json(i));
    return json{{key, std::move(out)}};
}

json torrent_set_trackers(Call& c)
{
    if (!c.has("trackers") && !c.has("add") && !c.has("remove"))
        throw invalid("Invalid params: give trackers, add or remove");
    daemon::TrackerEdit edit;
    auto const& p = c.params();
    if (c.has("trackers"))
        edit.replace = tracker_specs(p["trackers"]);
    if (c.has("add")) {
        edit.add = tracker_specs(p["add"]);
        edit.add_as_urls = !p["add"].empty() && p["add"][0].is_string();
    }
    edit.remove = c.arg<std::vector<std::string>>("remove");
    return status(c.engine().set_trackers(c.arg<std::string>("id"), edit));
}

// `key`'s value into `out` when the call has it.
template <class T> void take(Call& c, char const* key, std::optional<T>& out)
{
    if (c.has(key))
        out = c.arg<T>(key);
}

json torrent_set(Call& c)
{
    daemon::TorrentSettings s;
    take(c, "upload_limit", s.upload_limit);
    take(c, "download_limit", s.download_limit);
    take(c, "max_connections", s.max_connections);
    take(c, "sequential", s.sequential);
    take(c, "labels", s.labels);
    take(c, "ratio_limit", s.ratio_limit);
    take(c, "seed_time_limit", s.seed_time_limit);
    take(c, "idle_limit", s.idle_limit);
    take(c, "limit_action", s.limit_action);
    return status(c.engine().set(c.arg<std::vector<std::string>>("ids"), s));
}

json torrent_create(Call& call)
{
    daemon::CreateRequest req;
    req.path = call.arg<std::string>("path");
    req.piece_size = call.arg<std::int64_t>("piece_size");
    req.trackers = call.arg<std::vector<std::string>>("trackers");
    req.web_seeds = call.arg<std::vector<std::string>>("web_seeds");
    req.comment = call.arg<std::string>("comment");
    req.is_private = call.arg<bool>("private");
    req.version = call.arg<std::string>("version");
    req.add = call.arg<bool>("add");
    req.labels = call.arg<std::vector<std::string>>("labels");
    auto r = unwrap(call.engine().create(req));
    json skipped = json::array();
    for (auto const& s : r.skipped)
        skipped.push_back({{"path", s.path}, {"reason", s.reason}});
    return {{"metainfo", base64_encode(r.metainfo)},
            {"id", r.id},
            {"name", r.name},
            {"added", r.added},
            {"skipped", std::move(skipped)}};
}

// A tracker list: URLs, or {url, tier} objects.
Param tracker_list(char const* name, char const* help)
{
    return Param{name, Type::array, false, help}.of(
        {{"url", Type::string, true, "announce URL"},
         Param{"tier", Type::integer, false, "tier, 0 first"}.range(0, 255)},
        true);
}

json torrent_result_schema()
{
    return {{"type", "object"},
            {"properties",
             {{"id", {{"type", "string"}}},
              {"name", {{"type", "string"}}},
              {"added", {{"type", "boolean"}}}}}};
}

} // namespace

// The torrent.* methods. Long because it is a table: one entry per method, handlers above.
void add_torrent_methods(MethodTable& t)
{
    json const ok_schema = {{"type", "object"}, {"properties", {{"ok", {{"type", "boolean"}}}}}};

    t.push_back(
        {.name = "torrent.add",
         .summary = "Add a torrent from a base64 .torrent, a magnet link, an http(s) URL or a path "
                    "under an allowed root.",
         .mutates = true,
         .params = {{"metainfo", Type::base64, false, "bencoded .torrent, base64"},
                    {"magnet", Type::string, false, "magnet:?xt=urn:btih:..."},
                    {"url", Type::string, false,
                     "http(s) URL of a .torrent (or redirect to a magnet)"},
                    {"path", Type::string, false,
                     ".torrent file on the server, under an allowed root"},
                    {"save_path", Type::string, false, "download directory, under an allowed root"},
                    {"paused", Type::boolean, false, "add stopped"},
                    {"seed_mode", Type::boolean, false, "data is known complete: skip the check"},
                    {"labels", Type::string_array, false, "labels"}},
         .result = torrent_result_schema(),
         .handler = torrent_add});
    t.push_back({.name = "torrent.remove",
                 .summary = "Remove torrents, optionally deleting their data.",
                 .mutates = true,
                 .params = {ids_param(),
                            {"delete_data", Type::boolean, false, "also delete downloaded files"}},
                 .result = ok_schema,
                 .handler = [](Call& c) {
                     return status(c.engine().remove(c.arg<std::vector<std::string>>("ids"),
                                                     c.arg<bool>("delete_data")));
                 }});
    t.push_back({.name = "torrent.start",
                 .summary = "Start (resume) torrents; they join the queue.",
                 .mutates = true,
                 .params = {ids_param()},
                 .result = ok_schema,
                 .handler = [](Call& c) {
                     return status(
                         c.engine().start_torrents(c.arg<std::vector<std::string>>("ids")));
                 }});
    t.push_back({.name = "torrent.stop",
                 .summary = "Stop (pause) torrents; they stay stopped across restarts.",
                 .mutates = true,
                 .params = {ids_param()},
                 .result = ok_schema,
                 .handler = [](Call& c) {
                     return status(
                         c.engine().stop_torrents(c.arg<std::vector<std::string>>("ids")));
                 }});
    t.push_back({.name = "torrent.recheck",
                 .summary = "Verify the data of torrents against their piece hashes.",
                 .mutates = true,
                 .params = {ids_param()},
                 .result = ok_schema,
                 .handler = [](Call& c) {
                     return status(c.engine().recheck(c.arg<std::vector<std::string>>("ids")));
                 }});
    t.push_back({.name = "torrent.reannounce",
                 .summary = "Announce to all trackers now.",
                 .mutates = true,
                 .params = {ids_param()},
                 .result = ok_schema,
                 .handler = [](Call& c) {
                     return status(c.engine().reannounce(c.arg<std::vector<std::string>>("ids")));
                 }});
    t.push_back({.name = "torrent.queue_move",
                 .summary = "Move torrents in the download queue: to the top, up one, down one or "
                            "to the bottom.",
                 .mutates = true,
                 .params = {ids_param(), Param{"to", Type::string, true, "where to"}.one_of(
                                             {"top", "up", "down", "bottom"})},
                 .result = ok_schema,
                 .handler = [](Call& c) {
                     auto const to = c.arg<std::string>("to");
                     auto where = to == "top"    ? daemon::QueueMove::top
                                  : to == "up"   ? daemon::QueueMove::up
                                  : to == "down" ? daemon::QueueMove::down
                                                 : daemon::QueueMove::bottom;
                     return status(
                         c.engine().queue_move(c.arg<std::vector<std::string>>("ids"), where));
                 }});
    t.push_back({.name = "torrent.move",
                 .summary = "Move a torrent's data to another directory under an allowed root.",
                 .mutates = true,
                 .params = {id_param(), {"path", Type::string, true, "new save path"}},
                 .result = ok_schema,
                 .handler = [](Call& c) {
                     return status(
                         c.engine().move(c.arg<std::string>("id"), c.arg<std::string>("path")));
                 }});
    t.push_back(
        {.name = "torrent.list",
         .summary = "List torrents with the chosen fields, ordered by time added; optional paging.",
         .mutates = false,
         .params =
             {{"fields", Type::string_array, false, "fields to return (default: a short set)"},
              {"ids", Type::string_array, false, "only these torrents"},
              {"label", Type::string, false, "only torrents with this label"},
              Param{"limit", Type::integer, false, "page size (absent: all)"}.range(1, 1'000'000),
              {"after", Type::string, false, "id of the last torrent of the previous page"}},
         .result = schema::object({{"torrents", schema::array(torrent_schema())}},
                                  {{"next", schema::or_null(schema::string())}}),
         .handler = torrent_list});
    t.push_back({.name = "torrent.get",
                 .summary = "One torrent with the chosen fields (default: all).",
                 .mutates = false,
                 .params = {id_param(), {"fields", Type::string_array, false, "fields to return"}},
                 .result = torrent_schema(),
                 .handler = torrent_get});
    t.push_back({.name = "torrent.files",
                 .summary = "Files of a torrent with progress and priority.",
                 .mutates = false,
                 .params = {id_param()},
                 .result = schema::object({{"files", schema::array(file_schema())}}),
                 .handler = [](Call& c) {
                     return list_of("files", unwrap(c.engine().files(c.arg<std::string>("id"))));
                 }});
    t.push_back(
        {.name = "torrent.set_files",
         .summary =
             "Change file priorities (0-7) or wanted flags: files = [{index, priority?, wanted?}].",
         .mutates = true,
         .params = {id_param(),
                    Param{"files", Type::array, true, "changes by file index"}.of(
                        {Param{"index", Type::integer, true, "file index"}.range(0, INT32_MAX),
                         Param{"priority", Type::integer, false, "0 (skip) to 7 (highest)"}.range(
                             0, 7),
                         {"wanted", Type::boolean, false, "false = do not download"}})},
         .result = ok_schema,
         .handler = [](Call& c) {
             return status(
                 c.engine().set_files(c.arg<std::string>("id"), file_changes(c.params()["files"])));
         }});
    t.push_back({.name = "torrent.peers",
                 .summary = "Connected peers of a torrent.",
                 .mutates = false,
                 .params = {id_param()},
                 .result = schema::object({{"peers", schema::array(peer_schema())}}),
                 .handler = [](Call& c) {
                     return list_of("peers", unwrap(c.engine().peers(c.arg<std::string>("id"))));
                 }});
    t.push_back(
        {.name = "torrent.add_peers",
         .summary = "Connect a torrent to peers given as IP:PORT.",
         .mutates = true,
         .params = {id_param(), {"peers", Type::string_array, true, "IP:PORT or [IPv6]:PORT"}},
         .result = ok_schema,
         .handler = [](Call& c) {
             return status(c.engine().add_peers(c.arg<std::string>("id"),
                                                c.arg<std::vector<std::string>>("peers")));
         }});
    t.push_back({.name = "torrent.trackers",
                 .summary = "Trackers of a torrent with their announce status.",
                 .mutates = false,
                 .params = {id_param()},
                 .result = schema::object({{"trackers", schema::array(tracker_schema())}}),
                 .handler = [](Call& c) {
                     return list_of("trackers",
                                    unwrap(c.engine().trackers(c.arg<std::string>("id"))));
                 }});
    t.push_back(
        {.name = "torrent.set_trackers",
         .summary = "Replace the tracker list (trackers), or add and/or remove trackers by URL.",
         .mutates = true,
         .params = {id_param(),
                    tracker_list("trackers", "new list: URLs or {url, tier}"),
                    tracker_list("add", "URLs or {url, tier} to add"),
                    {"remove", Type::string_array, false, "URLs to remove"}},
         .result = ok_schema,
         .handler = torrent_set_trackers});
    t.push_back(
        {.name = "torrent.rename",
         .summary = "Rename a file or folder of a torrent (its last path component), on disk too.",
         .mutates = true,
         .params = {id_param(),
                    {"path", Type::string, true, "as torrent.files shows it: \"name/dir/file\""},
                    {"name", Type::string, true, "the new last component"}},
         .result = schema::object({{"path", schema::string()}}),
         .handler = [](Call& c) -> json {
             return {{"path", unwrap(c.engine().rename_path(c.arg<std::string>("id"),
                                                            c.arg<std::string>("path"),
                                                            c.arg<std::string>("name")))}};
         },
         .runs = Runs::slow}); // waits for libtorrent's disk thread
    t.push_back(
        {.name = "torrent.set",
         .summary =
             "Per-torrent settings: rate limits, connections, sequential, labels, share limits.",
         .mutates = true,
         .params = {ids_param(),
                    Param{"upload_limit", Type::integer, false, "bytes/s, 0 = unlimited"}.range(
                        0, INT32_MAX),
                    Param{"download_limit", Type::integer, false, "bytes/s, 0 = unlimited"}.range(
                        0, INT32_MAX),
                    Param{"max_connections", Type::integer, false, "-1 = unlimited"}.range(-1,
                                                                                           65535),
                    {"sequential", Type::boolean, false, "download pieces in order"},
                    {"labels", Type::string_array, false, "replace the labels"},
                    Param{"ratio_limit", Type::number, false,
                          "share ratio limit; -1 = the label's or the default, -2 = none"}
                        .range(-2, 1'000'000),
                    Param{"seed_time_limit", Type::integer, false,
                          "seconds of seeding; -1 = the label's or the default, -2 = none"}
                        .range(-2, 1LL << 40),
                    Param{"idle_limit", Type::integer, false,
                          "seconds seeding without uploading; -1 = the label's or the default, "
                          "-2 = none"}
                        .range(-2, 1LL << 40),
                    Param{"limit_action", Type::string, false, "what to do at a limit"}.one_of(
                        config::limit_actions())},
         .result = ok_schema,
         .handler = torrent_set});
    t.push_back(
        {.name = "torrent.create",
         .summary = "Create a .torrent from a file or folder under an allowed root; optionally add "
                    "and seed it.",
         .mutates = true,
         .params = {{"path", Type::string, true, "file or folder to share"},
                    Param{"piece_size", Type::integer, false, "bytes, power of two; 0 = automatic"}
                        .range(0, 128 << 20)
                        .defaults_to(0),
                    {"trackers", Type::string_array, false, "announce URLs, one tier each"},
                    {"web_seeds", Type::string_array, false, "BEP 19 web seed URLs"},
                    {"comment", Type::string, false, "comment"},
                    {"private", Type::boolean, false, "set the private flag"},
                    Param{"version", Type::string, false, "BitTorrent metadata version"}
                        .one_of({"v1", "hybrid", "v2"})
                        .defaults_to("v1"),
                    {"add", Type::boolean, false, "add it and seed from the same data"},
                    {"labels", Type::string_array, false, "labels when added"}},
         .result = {{"type", "object"},
                    {"properties",
                     {{"metainfo", {{"type", "string"}}},
                      {"id", {{"type", "string"}}},
                      {"name", {{"type", "string"}}},
                      {"added", {{"type", "boolean"}}},
                      {"skipped",
                       {{"type", "array"},
                        {"description", "files left out: symlinks leading outside the allowed "
                                        "roots or to nothing, FIFOs, sockets, devices"}}}}}},
         .handler = torrent_create,
         .websocket_only = false,
         .public_method = false,
         .runs = Runs::slow}); // hashes every file
}

} // namespace seedbox::rpc
