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
    static std::vector<TorrentField> const t = {
        {"id", "string", "info-hash hex (v1, or v2 for v2-only torrents)", &TorrentView::id},
        {"name", "string", "torrent name", &TorrentView::name},
        {"state", "string", state_help(), &TorrentView::state},
        {"progress", "number", "fraction of wanted data downloaded, 0..1", &TorrentView::progress},
        {"total_size", "integer", "bytes in the torrent", &TorrentView::total_size},
        {"size_when_done", "integer", "bytes of the wanted files", &TorrentView::size_when_done},
        {"left_until_done", "integer", "wanted bytes still missing", &TorrentView::left_until_done},
        {"downloaded", "integer", "payload bytes downloaded, all time", &TorrentView::downloaded},
        {"uploaded", "integer", "payload bytes uploaded, all time", &TorrentView::uploaded},
        {"have_bytes", "integer", "verified bytes on disk", &TorrentView::have_bytes},
        {"download_rate", "integer", "payload bytes/s down", &TorrentView::download_rate},
        {"upload_rate", "integer", "payload bytes/s up", &TorrentView::upload_rate},
        {"ratio", "number", "uploaded / downloaded (or / size for torrents added complete)",
         &TorrentView::ratio},
        {"peers", "integer", "connected peers", &TorrentView::peers},
        {"seeds", "integer", "connected seeds", &TorrentView::seeds},
        {"swarm_seeds", "integer", "seeds in the swarm per the tracker (-1 unknown)",
         &TorrentView::swarm_seeds},
        {"swarm_leechers", "integer", "leechers in the swarm per the tracker (-1 unknown)",
         &TorrentView::swarm_leechers},
        {"eta", "integer",
         "seconds until done, 0 when done, -1 unknown (no rate, or no metadata yet)",
         &TorrentView::eta},
        {"save_path", "string", "directory holding the data", &TorrentView::save_path},
        {"labels", "array", "labels", &TorrentView::labels},
        {"added_time", "integer", "unix time added", &TorrentView::added_time},
        {"completed_time", "integer", "unix time the download completed, 0 if not yet",
         &TorrentView::completed_time},
        {"error", "string", "error text, empty if none", &TorrentView::error},
        {"paused", "boolean", "true when stopped or queued", &TorrentView::paused},
        {"sequential", "boolean", "sequential download", &TorrentView::sequential},
        {"upload_limit", "integer", "bytes/s, 0 = unlimited", &TorrentView::upload_limit},
        {"download_limit", "integer", "bytes/s, 0 = unlimited", &TorrentView::download_limit},
        {"max_connections", "integer", "peer connection limit, -1 = unlimited",
         &TorrentView::max_connections},
        {"ratio_limit", "number",
         "its share ratio limit; -1 = the label's or the default, -2 = none",
         &TorrentView::ratio_limit},
        {"seed_time_limit", "integer",
         "its limit on seconds of seeding; -1 = the label's or the default, -2 = none",
         &TorrentView::seed_time_limit},
        {"idle_limit", "integer",
         "its limit on seconds seeding without uploading; -1 = the label's or the default, -2 = "
         "none",
         &TorrentView::idle_limit},
        {"limit_action", "string", "stop, remove or remove_data when a share limit is reached",
         &TorrentView::limit_action},
        {"limit_reached", "boolean", "stopped by a share limit (until started again)",
         &TorrentView::limit_reached},
        {"seeding_time", "integer", "seconds spent seeding", &TorrentView::seeding_time},
        {"active_time", "integer", "seconds spent active", &TorrentView::active_time},
        {"idle_time", "integer", "seconds seeding since it last uploaded (0 unless seeding)",
         &TorrentView::idle_time},
        {"activity_time", "integer", "unix time of the last payload sent or received, 0 never",
         &TorrentView::activity_time},
        {"num_pieces", "integer", "pieces in the torrent (0 without metadata)",
         &TorrentView::num_pieces},
        {"num_files", "integer", "files in the torrent, pad files not counted (0 without metadata)",
         &TorrentView::num_files},
        {"pieces_have", "integer", "pieces downloaded and checked", &TorrentView::pieces_have},
        {"piece_size", "integer", "bytes per piece (0 without metadata)", &TorrentView::piece_size},
        {"has_metadata", "boolean", "false while a magnet link fetches metadata",
         &TorrentView::has_metadata},
        {"info_hash_v2", "string", "v2 info-hash hex, empty for v1-only torrents",
         &TorrentView::info_hash_v2},
        {"current_tracker", "string", "tracker of the last successful announce",
         &TorrentView::current_tracker},
        {"queue_position", "integer", "position in the download queue, -1 when not queued",
         &TorrentView::queue_position},
        {"resume", "string", "none (checked from scratch), accepted (fast resume) or rejected",
         &TorrentView::resume},
        {"resume_saved_time", "integer", "unix time resume data was last written to state.db",
         &TorrentView::resume_saved_time},
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

namespace {

template <class... F> struct Overload : F... {
    using F::operator()...;
};
template <class... F> Overload(F...) -> Overload<F...>;

} // namespace

json torrent_json(TorrentView const& t, std::vector<TorrentField const*> const& fields)
{
    json obj = json::object();
    for (auto const* f : fields)
        std::visit(
            Overload{[&](daemon::TorrentState TorrentView::*m) { obj[f->name] = name(t.*m); },
                     [&](auto m) { obj[f->name] = t.*m; }},
            f->member);
    return obj;
}

void write_torrent(JsonText& out, TorrentView const& t,
                   std::vector<TorrentField const*> const& fields)
{
    out.raw('{');
    bool first = true;
    for (auto const* f : fields) {
        if (!first)
            out.raw(',');
        first = false;
        out.key(f->name);
        std::visit(Overload{[&](std::string TorrentView::*m) { out.string(t.*m); },
                            [&](std::int64_t TorrentView::*m) { out.integer(t.*m); },
                            [&](double TorrentView::*m) { out.number(t.*m); },
                            [&](bool TorrentView::*m) { out.boolean(t.*m); },
                            [&](std::vector<std::string> TorrentView::*m) {
                                out.raw('[');
                                for (std::size_t i = 0; i < (t.*m).size(); ++i) {
                                    if (i > 0)
                                        out.raw(',');
                                    out.string((t.*m)[i]);
                                }
                                out.raw(']');
                            },
                            [&](daemon::TorrentState TorrentView::*m) { out.string(name(t.*m)); }},
                   f->member);
    }
    out.raw('}');
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
