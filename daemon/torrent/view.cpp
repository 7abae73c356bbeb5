// torrent.list / torrent.get: one table of fields, each computed from the cached torrent_status,
// so a list call never touches libtorrent and costs only the fields asked for.
#include "daemon/torrent/engine_impl.h"

#include <algorithm>
#include <spdlog/spdlog.h>

namespace seedbox::daemon {

using json = nlohmann::json;

namespace {

using FieldFn = json (*)(Entry const&);

struct Field {
    char const* name;
    char const* type; // its JSON Schema type (rpc.discover's torrent.get result)
    char const* help;
    FieldFn fn;
};

std::int64_t secs(std::chrono::seconds s)
{
    return s.count();
}

double ratio_of(lt::torrent_status const& st)
{
    auto base = std::max(st.all_time_download, st.total_wanted_done);
    return base > 0 ? static_cast<double>(st.all_time_upload) / static_cast<double>(base) : 0.0;
}

std::int64_t eta_of(lt::torrent_status const& st)
{
    if (!st.has_metadata)
        return -1; // the size is not known yet: not "done"
    auto left = st.total_wanted - st.total_wanted_done;
    if (left <= 0)
        return 0;
    if (st.download_payload_rate <= 0)
        return -1;
    return left / st.download_payload_rate;
}

std::string hex_v2(lt::torrent_status const& st)
{
    if (!st.info_hashes.has_v2())
        return {};
    std::ostringstream os;
    os << st.info_hashes.v2;
    return os.str();
}

// "stopped, queued, ... or error", from the state list.
char const* state_help()
{
    static std::string const help = [] {
        std::string out;
        auto const& states = torrent_states();
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
std::vector<Field> const& table()
{
    static std::vector<Field> const t = {
        {"id", "string", "info-hash hex (v1, or v2 for v2-only torrents)",
         [](Entry const& e) -> json { return e.id; }},
        {"name", "string", "torrent name", [](Entry const& e) -> json { return e.status.name; }},
        {"state", "string", state_help(),
         [](Entry const&) -> json { return nullptr; }}, // filled by Impl::state_of
        {"progress", "number", "fraction of wanted data downloaded, 0..1",
         [](Entry const& e) -> json { return e.status.progress; }},
        {"total_size", "integer", "bytes in the torrent",
         [](Entry const& e) -> json {
             auto ti = e.status.torrent_file.lock();
             return ti ? ti->total_size() : std::int64_t{0};
         }},
        {"size_when_done", "integer", "bytes of the wanted files",
         [](Entry const& e) -> json { return e.status.total_wanted; }},
        {"left_until_done", "integer", "wanted bytes still missing",
         [](Entry const& e) -> json { return e.status.total_wanted - e.status.total_wanted_done; }},
        {"downloaded", "integer", "payload bytes downloaded, all time",
         [](Entry const& e) -> json { return e.status.all_time_download; }},
        {"uploaded", "integer", "payload bytes uploaded, all time",
         [](Entry const& e) -> json { return e.status.all_time_upload; }},
        {"have_bytes", "integer", "verified bytes on disk",
         [](Entry const& e) -> json { return e.status.total_done; }},
        {"download_rate", "integer", "payload bytes/s down",
         [](Entry const& e) -> json { return e.status.download_payload_rate; }},
        {"upload_rate", "integer", "payload bytes/s up",
         [](Entry const& e) -> json { return e.status.upload_payload_rate; }},
        {"ratio", "number", "uploaded / downloaded (or / size for torrents added complete)",
         [](Entry const& e) -> json { return ratio_of(e.status); }},
        {"peers", "integer", "connected peers",
         [](Entry const& e) -> json { return e.status.num_peers; }},
        {"seeds", "integer", "connected seeds",
         [](Entry const& e) -> json { return e.status.num_seeds; }},
        {"swarm_seeds", "integer", "seeds in the swarm per the tracker (-1 unknown)",
         [](Entry const& e) -> json { return e.status.num_complete; }},
        {"swarm_leechers", "integer", "leechers in the swarm per the tracker (-1 unknown)",
         [](Entry const& e) -> json { return e.status.num_incomplete; }},
        {"eta", "integer",
         "seconds until done, 0 when done, -1 unknown (no rate, or no metadata yet)",
         [](Entry const& e) -> json { return eta_of(e.status); }},
        {"save_path", "string", "directory holding the data",
         [](Entry const& e) -> json { return e.save_path; }},
        {"labels", "array", "labels", [](Entry const& e) -> json { return e.meta.labels; }},
        {"added_time", "integer", "unix time added",
         [](Entry const& e) -> json { return e.meta.added_time; }},
        {"completed_time", "integer", "unix time the download completed, 0 if not yet",
         [](Entry const& e) -> json { return e.meta.completed_time; }},
        {"error", "string", "error text, empty if none",
         [](Entry const& e) -> json {
             if (e.status.errc)
                 return e.status.errc.message();
             return e.error;
         }},
        {"paused", "boolean", "true when stopped or queued",
         [](Entry const& e) -> json {
             return static_cast<bool>(e.status.flags & lt::torrent_flags::paused);
         }},
        {"sequential", "boolean", "sequential download",
         [](Entry const& e) -> json { return e.meta.sequential; }},
        {"upload_limit", "integer", "bytes/s, 0 = unlimited",
         [](Entry const& e) -> json { return e.meta.upload_limit; }},
        {"download_limit", "integer", "bytes/s, 0 = unlimited",
         [](Entry const& e) -> json { return e.meta.download_limit; }},
        {"max_connections", "integer", "peer connection limit, -1 = unlimited",
         [](Entry const& e) -> json { return e.meta.max_connections; }},
        {"ratio_limit", "number", "stop or remove at this ratio, -1 = none",
         [](Entry const& e) -> json { return e.meta.ratio_limit; }},
        {"seed_time_limit", "integer", "seconds of seeding before the limit action, -1 = none",
         [](Entry const& e) -> json { return e.meta.seed_time_limit; }},
        {"limit_action", "string", "stop, remove or remove_data when a share limit is reached",
         [](Entry const& e) -> json { return e.meta.limit_action; }},
        {"seeding_time", "integer", "seconds spent seeding",
         [](Entry const& e) -> json { return secs(e.status.seeding_duration); }},
        {"active_time", "integer", "seconds spent active",
         [](Entry const& e) -> json { return secs(e.status.active_duration); }},
        {"num_pieces", "integer", "pieces in the torrent (0 without metadata)",
         [](Entry const& e) -> json {
             auto ti = e.status.torrent_file.lock();
             return ti ? ti->num_pieces() : 0;
         }},
        {"pieces_have", "integer", "pieces downloaded and checked",
         [](Entry const& e) -> json { return e.status.num_pieces; }},
        {"piece_size", "integer", "bytes per piece (0 without metadata)",
         [](Entry const& e) -> json {
             auto ti = e.status.torrent_file.lock();
             return ti ? ti->piece_length() : 0;
         }},
        {"has_metadata", "boolean", "false while a magnet link fetches metadata",
         [](Entry const& e) -> json { return e.status.has_metadata; }},
        {"info_hash_v2", "string", "v2 info-hash hex, empty for v1-only torrents",
         [](Entry const& e) -> json { return hex_v2(e.status); }},
        {"current_tracker", "string", "tracker of the last successful announce",
         [](Entry const& e) -> json { return e.status.current_tracker; }},
        {"queue_position", "integer", "position in the download queue, -1 when not queued",
         [](Entry const& e) -> json { return static_cast<int>(e.status.queue_position); }},
        {"resume", "string", "none (checked from scratch), accepted (fast resume) or rejected",
         [](Entry const& e) -> json { return e.resume_state; }},
        {"resume_saved_time", "integer", "unix time resume data was last written to state.db",
         [](Entry const& e) -> json { return e.resume_saved_time; }},
    };
    return t;
}

Field const* find_field(std::string const& name)
{
    for (auto const& f : table())
        if (name == f.name)
            return &f;
    return nullptr;
}

std::vector<std::string> const kDefaultFields = {
    "id",          "name",  "state", "progress", "total_size", "download_rate",
    "upload_rate", "ratio", "eta",   "labels"};

} // namespace

char const* name(TorrentState s)
{
    switch (s) {
    case TorrentState::stopped:
        return "stopped";
    case TorrentState::queued:
        return "queued";
    case TorrentState::checking_resume:
        return "checking_resume";
    case TorrentState::checking:
        return "checking";
    case TorrentState::downloading_metadata:
        return "downloading_metadata";
    case TorrentState::downloading:
        return "downloading";
    case TorrentState::finished:
        return "finished";
    case TorrentState::seeding:
        return "seeding";
    case TorrentState::moving:
        return "moving";
    case TorrentState::error:
        return "error";
    case TorrentState::unknown:
        break;
    }
    return "unknown";
}

std::vector<std::string> const& torrent_states()
{
    static auto const list = [] {
        std::vector<std::string> v;
        for (int i = 0; i < static_cast<int>(TorrentState::unknown); ++i)
            v.emplace_back(name(static_cast<TorrentState>(i)));
        return v;
    }();
    return list;
}

TorrentState state_of_status(lt::torrent_status const& st)
{
    using S = TorrentState;
    if (st.errc)
        return S::error;
    if (st.moving_storage)
        return S::moving;
    if (st.flags & lt::torrent_flags::paused)
        return (st.flags & lt::torrent_flags::auto_managed) ? S::queued : S::stopped;
    switch (st.state) {
    case lt::torrent_status::checking_files:
        return S::checking;
    case lt::torrent_status::downloading_metadata:
        return S::downloading_metadata;
    case lt::torrent_status::downloading:
        return S::downloading;
    case lt::torrent_status::finished:
        return S::finished;
    case lt::torrent_status::seeding:
        return S::seeding;
    case lt::torrent_status::checking_resume_data:
        return S::checking_resume;
    default:
        return S::unknown;
    }
}

std::string Engine::Impl::state_of(Entry const& e) const
{
    if (!e.have_status)
        return name(TorrentState::checking_resume);
    if (!e.error.empty() && !e.status.errc)
        return name(TorrentState::error);
    return name(state_of_status(e.status));
}

json Engine::Impl::summary(Entry const& e) const
{
    return {{"id", e.id},
            {"name", e.status.name},
            {"state", state_of(e)},
            {"progress", e.status.progress},
            {"download_rate", e.status.download_payload_rate},
            {"upload_rate", e.status.upload_payload_rate},
            {"downloaded", e.status.all_time_download},
            {"uploaded", e.status.all_time_upload},
            {"peers", e.status.num_peers},
            {"seeds", e.status.num_seeds},
            {"ratio", ratio_of(e.status)},
            {"eta", eta_of(e.status)}};
}

std::vector<Engine::FieldInfo> const& Engine::fields()
{
    static auto const list = [] {
        std::vector<FieldInfo> v;
        for (auto const& f : table())
            v.push_back({f.name, f.type, f.help});
        return v;
    }();
    return list;
}

namespace {

Result<std::vector<Field const*>> resolve_fields(std::vector<std::string> const& names)
{
    std::vector<Field const*> out;
    for (auto const& n : names.empty() ? kDefaultFields : names) {
        auto const* f = find_field(n);
        if (!f)
            return make_error(Errc::invalid_argument,
                              "fields: unknown field \"" + n + "\" (see rpc.discover)");
        out.push_back(f);
    }
    return out;
}

} // namespace

static json render(Engine::Impl const& m, Entry const& e, std::vector<Field const*> const& fields)
{
    json obj = json::object();
    for (auto const* f : fields) {
        if (f->name == std::string_view("state"))
            obj["state"] = m.state_of(e);
        else
            obj[f->name] = f->fn(e);
    }
    return obj;
}

Result<json> Engine::list(std::vector<std::string> const& fields,
                          std::vector<std::string> const& ids,
                          std::optional<std::string> const& label)
{
    auto& m = *impl_;
    auto fs = resolve_fields(fields);
    if (!fs)
        return fs.error();
    std::lock_guard lock(m.mutex);
    std::vector<Entry const*> picked;
    if (!ids.empty()) {
        for (auto const& id : ids) {
            auto it = m.torrents.find(id);
            if (it == m.torrents.end())
                return make_error(Errc::torrent_not_found, "no torrent with id " + id);
            picked.push_back(&it->second);
        }
    } else {
        picked.reserve(m.torrents.size());
        for (auto const& [id, e] : m.torrents) {
            if (label && std::find(e.meta.labels.begin(), e.meta.labels.end(), *label) ==
                             e.meta.labels.end())
                continue;
            picked.push_back(&e);
        }
        std::sort(picked.begin(), picked.end(),
                  [](Entry const* a, Entry const* b) { return a->seq < b->seq; });
    }
    json out = json::array();
    for (auto const* e : picked)
        out.push_back(render(m, *e, *fs));
    return out;
}

Result<json> Engine::get(std::string const& id, std::vector<std::string> const& fields)
{
    auto& m = *impl_;
    std::vector<std::string> names = fields;
    if (names.empty())
        for (auto const& f : table())
            names.emplace_back(f.name);
    auto fs = resolve_fields(names);
    if (!fs)
        return fs.error();
    lt::torrent_handle h;
    {
        std::lock_guard lock(m.mutex);
        auto e = m.find(id);
        if (!e)
            return e.error();
        h = (*e)->handle;
    }
    // One torrent: ask libtorrent (we are on a worker thread) rather than trust the cache, which
    // only hears about torrents libtorrent flags as changed and can miss the last counters of a
    // transfer that ended between two ticks. Rendered from a copy so the cache's own transition
    // detection (and its events) is untouched.
    auto fresh = h.status(kStatusFlags);
    std::lock_guard lock(m.mutex);
    auto e = m.find(id);
    if (!e)
        return e.error();
    Entry copy = **e;
    copy.status = std::move(fresh);
    copy.have_status = true;
    return render(m, copy, *fs);
}

namespace {

// The share limits that apply to a torrent: its own, else the first of its labels that sets any
// (config).
struct ShareLimits {
    double ratio_limit;
    std::int64_t seed_time_limit;
    std::string action;
    std::string source; // "its" or "label <name>'s", for the log
};

ShareLimits limits_of(Entry const& e, std::map<std::string, config::LabelPolicy> const& labels)
{
    ShareLimits out{e.meta.ratio_limit, e.meta.seed_time_limit, e.meta.limit_action, "its"};
    if (out.ratio_limit < 0 && out.seed_time_limit < 0) {
        for (auto const& l : e.meta.labels) {
            auto it = labels.find(l);
            if (it == labels.end() ||
                (it->second.ratio_limit < 0 && it->second.seed_time_limit < 0))
                continue;
            out.ratio_limit = it->second.ratio_limit;
            out.seed_time_limit = it->second.seed_time_limit;
            out.action = it->second.limit_action;
            out.source = "label " + l + "'s";
            break;
        }
    }
    return out;
}

} // namespace

std::vector<std::pair<std::string, std::string>> Engine::Impl::reach_share_limits()
{
    std::vector<std::pair<std::string, std::string>> hits; // id, action
    std::lock_guard lock(mutex);
    for (auto& [id, e] : torrents) {
        if (!e.have_status || e.meta.stopped || !e.status.is_finished)
            continue;
        auto limits = limits_of(e, cfg.labels);
        auto& action = limits.action;
        bool ratio_hit = limits.ratio_limit >= 0 && ratio_of(e.status) >= limits.ratio_limit;
        bool time_hit = limits.seed_time_limit >= 0 &&
                        secs(e.status.seeding_duration) >= limits.seed_time_limit;
        if (!ratio_hit && !time_hit)
            continue;
        if (action == "remove_data") {
            if (auto other = shares_files(e, {id}); !other.empty()) {
                spdlog::warn("torrent {}: its files are also the data of torrent {}; removing "
                             "it but keeping the data",
                             id, other);
                action = "remove";
            }
        }
        spdlog::info("torrent {} reached {} {} limit: {}", id, limits.source,
                     ratio_hit ? "ratio" : "seed time", action);
        hits.emplace_back(id, action);
        if (action == "stop") {
            e.meta.stopped = true;
            e.handle.unset_flags(lt::torrent_flags::auto_managed);
            e.handle.pause();
            e.dirty = true;
            store.update_meta(id, e.meta.to_json().dump(), e.save_path);
        }
    }
    return hits;
}

void Engine::Impl::remove_at_share_limit(std::string const& id, std::string const& action)
{
    lt::torrent_handle h;
    std::string name;
    {
        std::lock_guard lock(mutex);
        auto it = torrents.find(id);
        if (it == torrents.end())
            return;
        h = it->second.handle;
        name = it->second.status.name;
        torrents.erase(it);
    }
    bool with_data = action == "remove_data";
    ses->remove_torrent(h, with_data ? lt::session::delete_files : lt::remove_flags_t{});
    store.remove_torrent(id);
    events.publish(
        Event::torrent_removed,
        {{"id", id}, {"name", name}, {"deleted_data", with_data}, {"reason", "share_limit"}});
}

void Engine::Impl::check_share_limits()
{
    for (auto const& [id, action] : reach_share_limits()) {
        if (action == "stop")
            continue;
        remove_at_share_limit(id, action);
    }
}

} // namespace seedbox::daemon
