// The torrent field table (see torrent_fields.h), the JSON of a torrent's files, peers and
// trackers, and the typed changes torrent.set_files and torrent.set_trackers read from JSON.
#include "rpc/methods/torrent_fields.h"

#include "rpc/errors.h"
#include "rpc/schema.h"

#include <algorithm>

namespace seedbox::rpc {

using json = nlohmann::json;
using daemon::TorrentView;

namespace {

// "stopped, queued, ... or error", from the state list.
char const* state_help()
{
    static std::string const help = [] {
        std::string out;
        auto const& states = daemon::torrent_states();
        for (std::size_t i = 0; i < states.size(); ++i) {
            if (i > 0)
                out += i + 1 == states.size() ? " or " : ", ";
            out += states[i];
        }
        return out;
    }();
    return help.c_str();
}

// Long because it is a table: one entry per field, nothing to split.
std::vector<TorrentField> const& table()
{
    using T = TorrentView const&;
    static std::vector<TorrentField> const t = {
        {"id", "string", "info-hash hex (v1, or v2 for v2-only torrents)",
         [](T v) -> json { return v.id; }},
        {"name", "string", "torrent name", [](T v) -> json { return v.name; }},
        {"state", "string", state_help(), [](T v) -> json { return name(v.state); }},
        {"progress", "number", "fraction of wanted data downloaded, 0..1",
         [](T v) -> json { return v.progress; }},
        {"total_size", "integer", "bytes in the torrent", [](T v) -> json { return v.total_size; }},
        {"size_when_done", "integer", "bytes of the wanted files",
         [](T v) -> json { return v.size_when_done; }},
        {"left_until_done", "integer", "wanted bytes still missing",
         [](T v) -> json { return v.left_until_done; }},
        {"downloaded", "integer", "payload bytes downloaded, all time",
         [](T v) -> json { return v.downloaded; }},
        {"uploaded", "integer", "payload bytes uploaded, all time",
         [](T v) -> json { return v.uploaded; }},
        {"have_bytes", "integer", "verified bytes on disk",
         [](T v) -> json { return v.have_bytes; }},
        {"download_rate", "integer", "payload bytes/s down",
         [](T v) -> json { return v.download_rate; }},
        {"upload_rate", "integer", "payload bytes/s up", [](T v) -> json { return v.upload_rate; }},
        {"ratio", "number", "uploaded / downloaded (or / size for torrents added complete)",
         [](T v) -> json { return v.ratio; }},
        {"peers", "integer", "connected peers", [](T v) -> json { return v.peers; }},
        {"seeds", "integer", "connected seeds", [](T v) -> json { return v.seeds; }},
        {"swarm_seeds", "integer", "seeds in the swarm per the tracker (-1 unknown)",
         [](T v) -> json { return v.swarm_seeds; }},
        {"swarm_leechers", "integer", "leechers in the swarm per the tracker (-1 unknown)",
         [](T v) -> json { return v.swarm_leechers; }},
        {"eta", "integer",
         "seconds until done, 0 when done, -1 unknown (no rate, or no metadata yet)",
         [](T v) -> json { return v.eta; }},
        {"save_path", "string", "directory holding the data",
         [](T v) -> json { return v.save_path; }},
        {"labels", "array", "labels", [](T v) -> json { return v.labels; }},
        {"added_time", "integer", "unix time added", [](T v) -> json { return v.added_time; }},
        {"completed_time", "integer", "unix time the download completed, 0 if not yet",
         [](T v) -> json { return v.completed_time; }},
        {"error", "string", "error text, empty if none", [](T v) -> json { return v.error; }},
        {"paused", "boolean", "true when stopped or queued", [](T v) -> json { return v.paused; }},
        {"sequential", "boolean", "sequential download", [](T v) -> json { return v.sequential; }},
        {"upload_limit", "integer", "bytes/s, 0 = unlimited",
         [](T v) -> json { return v.upload_limit; }},
        {"download_limit", "integer", "bytes/s, 0 = unlimited",
         [](T v) -> json { return v.download_limit; }},
        {"max_connections", "integer", "peer connection limit, -1 = unlimited",
         [](T v) -> json { return v.max_connections; }},
        {"ratio_limit", "number",
         "its share ratio limit; -1 = the label's or the default, -2 = none",
         [](T v) -> json { return v.ratio_limit; }},
        {"seed_time_limit", "integer",
         "its limit on seconds of seeding; -1 = the label's or the default, -2 = none",
         [](T v) -> json { return v.seed_time_limit; }},
        {"idle_limit", "integer",
         "its limit on seconds seeding without uploading; -1 = the label's or the default, -2 = "
         "none",
         [](T v) -> json { return v.idle_limit; }},
        {"limit_action", "string", "stop, remove or remove_data when a share limit is reached",
         [](T v) -> json { return v.limit_action; }},
        {"limit_reached", "boolean", "stopped by a share limit (until started again)",
         [](T v) -> json { return v.limit_reached; }},
        {"seeding_time", "integer", "seconds spent seeding",
         [](T v) -> json { return v.seeding_time; }},
        {"active_time", "integer", "seconds spent active",
         [](T v) -> json { return v.active_time; }},
        {"idle_time", "integer", "seconds seeding since it last uploaded (0 unless seeding)",
         [](T v) -> json { return v.idle_time; }},
        {"activity_time", "integer", "unix time of the last payload sent or received, 0 never",
         [](T v) -> json { return v.activity_time; }},
        {"num_pieces", "integer", "pieces in the torrent (0 without metadata)",
         [](T v) -> json { return v.num_pieces; }},
        {"num_files", "integer", "files in the torrent, pad files not counted (0 without metadata)",
         [](T v) -> json { return v.num_files; }},
        {"pieces_have", "integer", "pieces downloaded and checked",
         [](T v) -> json { return v.pieces_have; }},
        {"piece_size", "integer", "bytes per piece (0 without metadata)",
         [](T v) -> json { return v.piece_size; }},
        {"has_metadata", "boolean", "false while a magnet link fetches metadata",
         [](T v) -> json { return v.has_metadata; }},
        {"info_hash_v2", "string", "v2 info-hash hex, empty for v1-only torrents",
         [](T v) -> json { return v.info_hash_v2; }},
        {"current_tracker", "string", "tracker of the last successful announce",
         [](T v) -> json { return v.current_tracker; }},
        {"queue_position", "integer", "position in the download queue, -1 when not queued",
         [](T v) -> json { return v.queue_position; }},
        {"resume", "string", "none (checked from scratch), accepted (fast resume) or rejected",
         [](T v) -> json { return v.resume; }},
        {"resume_saved_time", "integer", "unix time resume data was last written to state.db",
         [](T v) -> json { return v.resume_saved_time; }},
    };
    return t;
}

} // namespace

std::span<TorrentField const> torrent_fields()
{
    return table();
}

std::vector<std::string> const& default_torrent_fields()
{
    static std::vector<std::string> const fields = {
        "id",          "name",  "state", "progress", "total_size", "download_rate",
        "upload_rate", "ratio", "eta",   "labels"};
    return fields;
}

std::vector<TorrentField const*> resolve_torrent_fields(std::vector<std::string> const& names)
{
    std::vector<TorrentField const*> out;
    out.reserve(names.size());
    for (auto const& n : names) {
        auto const& t = table();
        auto it =
            std::find_if(t.begin(), t.end(), [&](TorrentField const& f) { return n == f.name; });
        if (it == t.end())
            throw RpcError(Err::invalid_params,
                           "fields: unknown field \"" + n + "\" (see rpc.discover)");
        out.push_back(&*it);
    }
    return out;
}

json torrent_json(TorrentView const& t, std::vector<TorrentField const*> const& fields)
{
    json obj = json::object();
    for (auto const* f : fields)
        obj[f->name] = f->value(t);
    return obj;
}

json torrent_schema()
{
    json props = json::object();
    for (auto const& f : table())
        props[f.name] = schema::type(f.type);
    props["state"]["enum"] = daemon::torrent_states();
    return {{"type", "object"}, {"properties", props}, {"additionalProperties", false}};
}

json to_json(daemon::FileView const& f)
{
    return {{"index", f.index},           {"path", f.path},         {"size", f.size},
            {"downloaded", f.downloaded}, {"progress", f.progress}, {"priority", f.priority},
            {"wanted", f.wanted}};
}

json to_json(daemon::PeerConnection const& p)
{
    return {{"ip", p.ip},
            {"payment", p.payment},
            {"unpaid", p.unpaid},
            {"bid_per_gib", p.bid_per_gib ? json(*p.bid_per_gib) : json(nullptr)},
            {"port", p.port},
            {"client", p.client},
            {"progress", p.progress},
            {"download_rate", p.download_rate},
            {"upload_rate", p.upload_rate},
            {"downloaded", p.downloaded},
            {"uploaded", p.uploaded},
            {"flags", p.flags},
            {"seed", p.seed},
            {"connection", p.connection},
            {"incoming", p.incoming}};
}

json to_json(daemon::TrackerView const& t)
{
    json endpoints = json::array();
    for (auto const& e : t.endpoints)
        endpoints.push_back({{"local", e.local},
                             {"status", e.state.status},
                             {"message", e.state.message},
                             {"fails", e.state.fails}});
    return {{"url", t.url},
            {"tier", t.tier},
            {"status", t.state.status},
            {"message", t.state.message},
            {"seeds", t.seeds},
            {"leechers", t.leechers},
            {"downloaded", t.downloaded},
            {"fails", t.state.fails},
            {"endpoints", std::move(endpoints)}};
}

// The dispatcher checked each member that is not null; a null one is refused here with the
// message the member's own check gives.
std::vector<daemon::FileChange> file_changes(json const& files)
{
    auto bad = [](char const* why) { return RpcError(Err::invalid_params, why); };
    std::vector<daemon::FileChange> out;
    for (auto const& f : files) {
        daemon::FileChange c;
        if (!f.contains("index") || !f["index"].is_number_integer())
            throw bad("files: each entry needs an integer \"index\"");
        c.index = f["index"].get<std::int64_t>();
        if (f.contains("priority")) {
            if (!f["priority"].is_number_integer())
                throw bad("files: priority must be an integer 0..7");
            c.priority = f["priority"].get<int>();
        }
        if (f.contains("wanted")) {
            if (!f["wanted"].is_boolean())
                throw bad("files: wanted must be true or false");
            c.wanted = f["wanted"].get<bool>();
        }
        out.push_back(c);
    }
    return out;
}

// A tracker list as the dispatcher checked it: URLs, or {url, tier} objects.
std::vector<daemon::TrackerSpec> tracker_specs(json const& list)
{
    std::vector<daemon::TrackerSpec> out;
    for (auto const& t : list) {
        if (t.is_string()) {
            out.push_back({t.get<std::string>()});
            continue;
        }
        if (!t.contains("url") || !t["url"].is_string())
            throw RpcError(Err::invalid_tracker, "each tracker is a URL or {url, tier}");
        if (t.contains("tier") && !t["tier"].is_number_integer())
            throw RpcError(Err::invalid_tracker, "tier must be an integer 0..255");
        out.push_back({t["url"].get<std::string>(), t.contains("tier")
                                                        ? std::optional<int>(t["tier"].get<int>())
                                                        : std::nullopt});
    }
    return out;
}

json file_schema()
{
    using namespace schema;
    return object({{"index", integer()},
                   {"path", string()},
                   {"size", integer()},
                   {"downloaded", integer()},
                   {"progress", number()},
                   {"priority", integer()},
                   {"wanted", boolean()}});
}

json peer_schema()
{
    using namespace schema;
    json payment = string();
    payment["enum"] = daemon::peer_payment_classes();
    return object({{"ip", string()},
                   {"payment", payment},
                   {"unpaid", amount()},
                   {"bid_per_gib", or_null(amount())},
                   {"port", integer()},
                   {"client", string()},
                   {"progress", number()},
                   {"download_rate", integer()},
                   {"upload_rate", integer()},
                   {"downloaded", integer()},
                   {"uploaded", integer()},
                   {"flags", string()},
                   {"seed", boolean()},
                   {"connection", string()},
                   {"incoming", boolean()}});
}

json tracker_schema()
{
    using namespace schema;
    json status = string();
    status["enum"] = daemon::tracker_statuses();
    json endpoint = object(
        {{"local", string()}, {"status", status}, {"message", string()}, {"fails", integer()}});
    return object({{"url", string()},
                   {"tier", integer()},
                   {"status", status},
                   {"message", string()},
                   {"seeds", integer()},
                   {"leechers", integer()},
                   {"downloaded", integer()},
                   {"fails", integer()},
                   {"endpoints", array(endpoint)}});
}

} // namespace seedbox::rpc
