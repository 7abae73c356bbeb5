// torrent.*: thin handlers. Parse, call the engine, shape JSON.
#include "config/settings.h"
#include "daemon/paths.h"
#include "daemon/torrent/engine.h"
#include "rpc/fetch.h"
#include "rpc/method.h"

#include <fstream>
#include <sstream>

namespace seedbox::rpc {

namespace {

using daemon::Errc;

RpcError invalid(std::string const& msg)
{
    return {kInvalidParams, "invalid_params", msg};
}

json ok()
{
    return json{{"ok", true}};
}

Param ids_param()
{
    return {"ids", Type::string_array, true, "torrent ids (info-hash hex)"};
}
Param id_param()
{
    return {"id", Type::string, true, "torrent id (info-hash hex)"};
}

std::string read_metainfo_file(Call& call, std::string const& path)
{
    auto const& cfg = call.ctx().config.torrent;
    auto p = unwrap(daemon::confine(path, cfg.allowed_roots));
    std::ifstream in(p, std::ios::binary);
    if (!in)
        throw RpcError(kInvalidMetainfo, "invalid_metainfo", "path: cannot read " + p.string());
    std::string data;
    data.resize(static_cast<std::size_t>(cfg.max_metainfo_bytes) + 1);
    in.read(data.data(), static_cast<std::streamsize>(data.size()));
    data.resize(static_cast<std::size_t>(in.gcount()));
    if (static_cast<std::int64_t>(data.size()) > cfg.max_metainfo_bytes)
        throw RpcError(kInvalidMetainfo, "invalid_metainfo",
                       "path: " + p.string() + " is larger than torrent.max_metainfo_bytes");
    return data;
}

json torrent_add(Call& call)
{
    int sources = call.has("metainfo") + call.has("magnet") + call.has("url") + call.has("path");
    if (sources != 1)
        throw invalid("Invalid params: give exactly one of metainfo, magnet, url or path");
    auto const& cfg = call.ctx().config.torrent;
    daemon::AddRequest req;
    if (call.has("metainfo")) {
        auto b64 = call.arg<std::string>("metainfo");
        if (static_cast<std::int64_t>(b64.size()) > cfg.max_metainfo_bytes / 3 * 4 + 8)
            throw RpcError(kInvalidMetainfo, "invalid_metainfo",
                           "metainfo: larger than torrent.max_metainfo_bytes");
        if (!base64_decode(b64, req.metainfo))
            throw RpcError(kInvalidBase64, "invalid_base64",
                           "metainfo: not valid base64 (standard alphabet, padded)");
    } else if (call.has("magnet")) {
        req.magnet = call.arg<std::string>("magnet");
    } else if (call.has("path")) {
        req.metainfo = read_metainfo_file(call, call.arg<std::string>("path"));
    } else {
        if (!cfg.url_add)
            throw RpcError(kUrlAddDisabled, "url_add_disabled",
                           "adding from URLs is disabled (torrent.url_add)");
        auto fetched = unwrap(fetch_url(call.arg<std::string>("url"),
                                        static_cast<std::size_t>(cfg.max_metainfo_bytes),
                                        std::chrono::seconds(cfg.url_timeout)));
        req.metainfo = std::move(fetched.body);
        req.magnet = std::move(fetched.magnet);
    }
    req.save_path = call.arg<std::string>("save_path");
    req.paused = call.arg<bool>("paused");
    req.seed_mode = call.arg<bool>("seed_mode");
    req.labels = call.arg<std::vector<std::string>>("labels");
    auto r = unwrap(call.engine().add(req));
    return {{"id", r.id}, {"name", r.name}, {"added", r.added}};
}

json torrent_list(Call& call)
{
    auto fields = call.arg<std::vector<std::string>>("fields");
    auto limit = call.arg<std::int64_t>("limit", -1);
    auto after = call.arg<std::string>("after");
    std::optional<std::string> label;
    if (call.has("label"))
        label = call.arg<std::string>("label");
    if (limit < -1 || limit == 0)
        throw invalid("Invalid params: limit must be a positive integer");
    bool paging = limit > 0 || !after.empty();
    bool strip_id = false;
    if (paging && !fields.empty() &&
        std::find(fields.begin(), fields.end(), "id") == fields.end()) {
        fields.push_back("id");
        strip_id = true;
    }
    auto all = unwrap(call.engine().list(fields, call.arg<std::vector<std::string>>("ids"), label));
    json page = json::array();
    json next = nullptr;
    bool started = after.empty();
    for (auto& t : all) {
        if (!started) {
            started = t["id"] == after;
            continue;
        }
        if (limit > 0 && static_cast<std::int64_t>(page.size()) == limit) {
            next = page.back()["id"];
            break;
        }
        page.push_back(std::move(t));
    }
    if (!started)
        throw RpcError(kTorrentNotFound, "torrent_not_found", "after: no torrent with id " + after);
    if (strip_id)
        for (auto& t : page)
            t.erase("id");
    json out = {{"torrents", std::move(page)}};
    if (paging)
        out["next"] = next;
    return out;
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
    req.version = call.arg<std::string>("version", "v1");
    req.add = call.arg<bool>("add");
    req.labels = call.arg<std::vector<std::string>>("labels");
    auto r = unwrap(call.engine().create(req));
    return {{"metainfo", base64_encode(r.metainfo)},
            {"id", r.id},
            {"name", r.name},
            {"added", r.added}};
}

json status(daemon::Status st)
{
    unwrap(std::move(st));
    return ok();
}

json torrent_result_schema()
{
    return {{"type", "object"},
            {"properties",
             {{"id", {{"type", "string"}}},
              {"name", {{"type", "string"}}},
              {"added", {{"type", "boolean"}}}}}};
}

json array_of(char const* key)
{
    return {{"type", "object"},
            {"properties", {{key, {{"type", "array"}, {"items", {{"type", "object"}}}}}}}};
}

} // namespace

void add_torrent_methods(MethodTable& t)
{
    json const ok_schema = {{"type", "object"}, {"properties", {{"ok", {{"type", "boolean"}}}}}};

    t.push_back(
        {"torrent.add",
         "Add a torrent from a base64 .torrent, a magnet link, an http(s) URL or a path "
         "under an allowed root.",
         true,
         {{"metainfo", Type::base64, false, "bencoded .torrent, base64"},
          {"magnet", Type::string, false, "magnet:?xt=urn:btih:..."},
          {"url", Type::string, false, "http(s) URL of a .torrent (or redirect to a magnet)"},
          {"path", Type::string, false, ".torrent file on the server, under an allowed root"},
          {"save_path", Type::string, false, "download directory, under an allowed root"},
          {"paused", Type::boolean, false, "add stopped"},
          {"seed_mode", Type::boolean, false, "data is known complete: skip the check"},
          {"labels", Type::string_array, false, "labels"}},
         torrent_result_schema(),
         torrent_add});
    t.push_back(
        {"torrent.remove",
         "Remove torrents, optionally deleting their data.",
         true,
         {ids_param(), {"delete_data", Type::boolean, false, "also delete downloaded files"}},
         ok_schema,
         [](Call& c) {
             return status(c.engine().remove(c.arg<std::vector<std::string>>("ids"),
                                             c.arg<bool>("delete_data")));
         }});
    t.push_back({"torrent.start",
                 "Start (resume) torrents; they join the queue.",
                 true,
                 {ids_param()},
                 ok_schema,
                 [](Call& c) {
                     return status(
                         c.engine().start_torrents(c.arg<std::vector<std::string>>("ids")));
                 }});
    t.push_back({"torrent.stop",
                 "Stop (pause) torrents; they stay stopped across restarts.",
                 true,
                 {ids_param()},
                 ok_schema,
                 [](Call& c) {
                     return status(
                         c.engine().stop_torrents(c.arg<std::vector<std::string>>("ids")));
                 }});
    t.push_back({"torrent.recheck",
                 "Verify the data of torrents against their piece hashes.",
                 true,
                 {ids_param()},
                 ok_schema,
                 [](Call& c) {
                     return status(c.engine().recheck(c.arg<std::vector<std::string>>("ids")));
                 }});
    t.push_back({"torrent.reannounce",
                 "Announce to all trackers now.",
                 true,
                 {ids_param()},
                 ok_schema,
                 [](Call& c) {
                     return status(c.engine().reannounce(c.arg<std::vector<std::string>>("ids")));
                 }});
    t.push_back({"torrent.move",
                 "Move a torrent's data to another directory under an allowed root.",
                 true,
                 {id_param(), {"path", Type::string, true, "new save path"}},
                 ok_schema,
                 [](Call& c) {
                     return status(
                         c.engine().move(c.arg<std::string>("id"), c.arg<std::string>("path")));
                 }});
    t.push_back({"torrent.list",
                 "List torrents with the chosen fields, ordered by time added; optional paging.",
                 false,
                 {{"fields", Type::string_array, false, "fields to return (default: a short set)"},
                  {"ids", Type::string_array, false, "only these torrents"},
                  {"label", Type::string, false, "only torrents with this label"},
                  {"limit", Type::integer, false, "page size"},
                  {"after", Type::string, false, "id of the last torrent of the previous page"}},
                 {{"type", "object"},
                  {"properties",
                   {{"torrents", {{"type", "array"}, {"items", {{"type", "object"}}}}},
                    {"next", {{"type", {"string", "null"}}}}}}},
                 torrent_list});
    t.push_back({"torrent.get",
                 "One torrent with the chosen fields (default: all).",
                 false,
                 {id_param(), {"fields", Type::string_array, false, "fields to return"}},
                 {{"type", "object"}},
                 [](Call& c) {
                     return unwrap(c.engine().get(c.arg<std::string>("id"),
                                                  c.arg<std::vector<std::string>>("fields")));
                 }});
    t.push_back({"torrent.files",
                 "Files of a torrent with progress and priority.",
                 false,
                 {id_param()},
                 array_of("files"),
                 [](Call& c) {
                     return json{{"files", unwrap(c.engine().files(c.arg<std::string>("id")))}};
                 }});
    t.push_back(
        {"torrent.set_files",
         "Change file priorities (0-7) or wanted flags: files = [{index, priority?, wanted?}].",
         true,
         {id_param(), {"files", Type::array, true, "changes by file index"}},
         ok_schema,
         [](Call& c) {
             return status(c.engine().set_files(c.arg<std::string>("id"), c.params()["files"]));
         }});
    t.push_back({"torrent.peers",
                 "Connected peers of a torrent.",
                 false,
                 {id_param()},
                 array_of("peers"),
                 [](Call& c) {
                     return json{{"peers", unwrap(c.engine().peers(c.arg<std::string>("id")))}};
                 }});
    t.push_back({"torrent.add_peers",
                 "Connect a torrent to peers given as IP:PORT.",
                 true,
                 {id_param(), {"peers", Type::string_array, true, "IP:PORT or [IPv6]:PORT"}},
                 ok_schema,
                 [](Call& c) {
                     return status(c.engine().add_peers(c.arg<std::string>("id"),
                                                        c.arg<std::vector<std::string>>("peers")));
                 }});
    t.push_back(
        {"torrent.trackers",
         "Trackers of a torrent with their announce status.",
         false,
         {id_param()},
         array_of("trackers"),
         [](Call& c) {
             return json{{"trackers", unwrap(c.engine().trackers(c.arg<std::string>("id")))}};
         }});
    t.push_back({"torrent.set_trackers",
                 "Replace the tracker list (trackers), or add and/or remove trackers by URL.",
                 true,
                 {id_param(),
                  {"trackers", Type::array, false, "new list: URLs or {url, tier}"},
                  {"add", Type::array, false, "URLs or {url, tier} to add"},
                  {"remove", Type::string_array, false, "URLs to remove"}},
                 ok_schema,
                 [](Call& c) {
                     if (!c.has("trackers") && !c.has("add") && !c.has("remove"))
                         throw invalid("Invalid params: give trackers, add or remove");
                     return status(c.engine().set_trackers(c.arg<std::string>("id"), c.params()));
                 }});
    t.push_back(
        {"torrent.set",
         "Per-torrent settings: rate limits, connections, sequential, labels, share limits.",
         true,
         {ids_param(),
          {"upload_limit", Type::integer, false, "bytes/s, 0 = unlimited"},
          {"download_limit", Type::integer, false, "bytes/s, 0 = unlimited"},
          {"max_connections", Type::integer, false, "-1 = unlimited"},
          {"sequential", Type::boolean, false, "download pieces in order"},
          {"labels", Type::string_array, false, "replace the labels"},
          {"ratio_limit", Type::number, false, "share ratio limit, -1 = none"},
          {"seed_time_limit", Type::integer, false, "seconds of seeding, -1 = none"},
          {"limit_action", Type::string, false, "stop | remove | remove_data"}},
         ok_schema,
         [](Call& c) {
             json s = c.params();
             s.erase("ids");
             return status(c.engine().set(c.arg<std::vector<std::string>>("ids"), s));
         }});
    t.push_back({"torrent.create",
                 "Create a .torrent from a file or folder under an allowed root; optionally add "
                 "and seed it.",
                 true,
                 {{"path", Type::string, true, "file or folder to share"},
                  {"piece_size", Type::integer, false, "bytes, power of two; 0 = automatic"},
                  {"trackers", Type::string_array, false, "announce URLs, one tier each"},
                  {"web_seeds", Type::string_array, false, "BEP 19 web seed URLs"},
                  {"comment", Type::string, false, "comment"},
                  {"private", Type::boolean, false, "set the private flag"},
                  {"version", Type::string, false, "v1 (default), hybrid or v2"},
                  {"add", Type::boolean, false, "add it and seed from the same data"},
                  {"labels", Type::string_array, false, "labels when added"}},
                 {{"type", "object"},
                  {"properties",
                   {{"metainfo", {{"type", "string"}}},
                    {"id", {{"type", "string"}}},
                    {"name", {{"type", "string"}}},
                    {"added", {{"type", "boolean"}}}}}},
                 torrent_create});
}

} // namespace seedbox::rpc
