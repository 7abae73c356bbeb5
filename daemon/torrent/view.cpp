// torrent.list / torrent.get: a TorrentView of each torrent, made from the cached
// torrent_status, so a list call never touches libtorrent. The RPC layer's field table
// (rpc/methods/torrent_fields.cpp) picks the fields a caller asked for.
#include "daemon/torrent/engine_impl.h"

#include <algorithm>
#include <optional>
#include <sstream>

namespace seedbox::daemon {

using json = nlohmann::json;

double ratio_of(CachedStatus const& st)
{
    auto base = std::max(st.all_time_download, st.total_wanted_done);
    return base > 0 ? static_cast<double>(st.all_time_upload) / static_cast<double>(base) : 0.0;
}

namespace {

// Seconds since `t`, a libtorrent timestamp; nullopt when it was never set.
std::optional<std::int64_t> seconds_since(lt::time_point t)
{
    if (t.time_since_epoch().count() <= 0)
        return std::nullopt;
    return std::chrono::duration_cast<std::chrono::seconds>(lt::clock_type::now() - t).count();
}

} // namespace

std::int64_t idle_seconds(CachedStatus const& st)
{
    auto const seeding = st.seeding_duration.count();
    if (!st.is_seeding || seeding <= 0)
        return 0;
    auto const since = seconds_since(st.last_upload);
    return since ? std::clamp<std::int64_t>(*since, 0, seeding) : seeding;
}

std::int64_t activity_time_of(CachedStatus const& st)
{
    auto up = seconds_since(st.last_upload), down = seconds_since(st.last_download);
    if (!up && !down)
        return 0;
    auto const ago = std::min(up.value_or(INT64_MAX), down.value_or(INT64_MAX));
    return now_unix() - std::max<std::int64_t>(ago, 0);
}

namespace {

// Files as torrent.files lists them: pad files left out.
std::int64_t files_of(lt::torrent_info const& ti)
{
    auto const& fs = ti.files();
    std::int64_t n = 0;
    for (auto i : fs.file_range())
        n += fs.pad_file_at(i) ? 0 : 1;
    return n;
}

std::int64_t eta_of(CachedStatus const& st)
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

// Written the way id_of writes ids (libtorrent's own hex); only v2 torrents pay for it.
std::string hex_v2(CachedStatus const& st)
{
    if (st.info_hash_v2.is_all_zeros())
        return {};
    std::ostringstream os;
    os << st.info_hash_v2;
    return os.str();
}

// What the metadata says; zero and empty without it.
void metadata_of(Entry const& e, TorrentView& v)
{
    // A magnet's torrent_info before its metadata is there but not valid (no files); the one
    // that replaces it once the metadata arrives is.
    auto ti = e.status.torrent_file.lock();
    if (!ti || !ti->is_valid()) {
        v.total_size = v.num_pieces = v.num_files = v.piece_size = v.created_time = 0;
        v.is_private = false;
        v.comment.clear();
        v.creator.clear();
        return;
    }
    v.total_size = ti->total_size();
    v.num_pieces = ti->num_pieces();
    if (e.num_files < 0) // the files of a torrent's metadata never change: counted once
        e.num_files = files_of(*ti);
    v.num_files = e.num_files;
    v.piece_size = ti->piece_length();
    v.is_private = ti->priv();
    v.comment = ti->comment();
    v.creator = ti->creator();
    v.created_time = ti->creation_date();
}

// The transfer figures, from libtorrent's status.
void transfer_of(CachedStatus const& st, TorrentView& v)
{
    v.name = st.name;
    v.progress = st.progress;
    v.size_when_done = st.total_wanted;
    v.left_until_done = st.total_wanted - st.total_wanted_done;
    v.downloaded = st.all_time_download;
    v.uploaded = st.all_time_upload;
    v.have_bytes = st.total_done;
    v.download_rate = st.download_payload_rate;
    v.upload_rate = st.upload_payload_rate;
    v.ratio = ratio_of(st);
    v.peers = st.num_peers;
    v.seeds = st.num_seeds;
    v.swarm_seeds = st.num_complete;
    v.swarm_leechers = st.num_incomplete;
    v.eta = eta_of(st);
    v.paused = static_cast<bool>(st.flags & lt::torrent_flags::paused);
    v.seeding_time = st.seeding_duration.count();
    v.active_time = st.active_duration.count();
    v.idle_time = idle_seconds(st);
    v.activity_time = activity_time_of(st);
    v.pieces_have = st.num_pieces;
    v.has_metadata = st.has_metadata;
    v.info_hash_v2 = hex_v2(st);
    v.current_tracker = st.current_tracker;
    v.queue_position = static_cast<int>(st.queue_position);
}

// Our own settings and bookkeeping of the torrent.
void settings_of(Entry const& e, TorrentView& v)
{
    v.save_path = e.save_path;
    v.labels = e.meta.labels;
    v.added_time = e.meta.added_time;
    v.completed_time = e.meta.completed_time;
    v.sequential = e.meta.sequential;
    v.upload_limit = e.meta.upload_limit;
    v.download_limit = e.meta.download_limit;
    v.max_connections = e.meta.max_connections;
    v.ratio_limit = e.meta.ratio_limit;
    v.seed_time_limit = e.meta.seed_time_limit;
    v.idle_limit = e.meta.idle_limit;
    v.limit_reached = e.meta.limit_reached;
    v.limit_action = e.meta.limit_action;
    v.resume = e.resume_state;
    v.resume_saved_time = e.resume_saved_time;
}

// Every field of `v` set from `e`: a view reused for the next torrent keeps only its strings'
// capacity.
void view_into(Engine::Impl const& m, Entry const& e, TorrentView& v)
{
    v.id = e.id;
    v.number = e.number;
    transfer_of(e.status, v);
    metadata_of(e, v);
    settings_of(e, v);
    v.state = m.torrent_state(e);
    if (e.status.errc)
        v.error = e.status.errc.message();
    else
        v.error = e.error;
}

TorrentView view_of(Engine::Impl const& m, Entry const& e)
{
    TorrentView v;
    view_into(m, e, v);
    return v;
}

} // namespace

TorrentState state_of_status(CachedStatus const& st)
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

TorrentState Engine::Impl::torrent_state(Entry const& e) const
{
    if (e.loading)
        return TorrentState::loading;
    if (e.failed)
        return TorrentState::error; // failed to load
    if (!e.have_status)
        return TorrentState::checking_resume;
    if (!e.error.empty() && !e.status.errc)
        return TorrentState::error;
    return state_of_status(e.status);
}

TorrentNote Engine::Impl::summary(Entry const& e) const
{
    return {.id = e.id,
            .name = e.status.name,
            .state = torrent_state(e),
            .progress = e.status.progress,
            .download_rate = e.status.download_payload_rate,
            .upload_rate = e.status.upload_payload_rate,
            .downloaded = e.status.all_time_download,
            .uploaded = e.status.all_time_upload,
            .peers = e.status.num_peers,
            .seeds = e.status.num_seeds,
            .ratio = ratio_of(e.status),
            .eta = eta_of(e.status)};
}

namespace {

// The torrents a list names, in the order they were added (all of them, or those with `label`),
// or in the order `ids` names them.
Result<std::vector<Entry const*>> pick(Engine::Impl const& m, std::vector<std::string> const& ids,
                                       std::optional<std::string> const& label)
{
    std::vector<Entry const*> picked;
    if (!ids.empty()) {
        for (auto const& id : ids) {
            auto it = m.torrents.find(id);
            if (it == m.torrents.end())
                return make_error(Errc::torrent_not_found, "no torrent with id " + id);
            picked.push_back(&it->second);
        }
        return picked;
    }
    if (!label)
        return std::vector<Entry const*>(m.by_seq.begin(), m.by_seq.end());
    for (auto const* e : m.by_seq)
        if (std::find(e->meta.labels.begin(), e->meta.labels.end(), *label) != e->meta.labels.end())
            picked.push_back(e);
    return picked;
}

} // namespace

Status Engine::each(std::vector<std::string> const& ids, std::optional<std::string> const& label,
                    ViewSink const& fn)
{
    auto& m = *impl_;
    std::lock_guard lock(m.mutex);
    auto picked = pick(m, ids, label);
    if (!picked)
        return picked.error();
    TorrentView v;
    for (auto const* e : *picked) {
        view_into(m, *e, v);
        if (!fn(v))
            break;
    }
    return Ok{};
}

Result<std::vector<TorrentView>> Engine::list(std::vector<std::string> const& ids,
                                              std::optional<std::string> const& label)
{
    std::vector<TorrentView> out;
    auto st = each(ids, label, [&out](TorrentView const& v) {
        out.push_back(v);
        return true;
    });
    if (!st)
        return st.error();
    return out;
}

Result<TorrentView> Engine::get(std::string const& id)
{
    auto& m = *impl_;
    lt::torrent_handle h;
    {
        std::unique_lock lock(m.mutex);
        m.await_handles(lock, {id}); // just added, or a restart: its handle is moments away
        auto e = m.find(id);
        if (!e)
            return e.error();
        if (!(*e)->has_handle())
            return view_of(m, **e); // still loading, or failed to load: what the table knows
        h = (*e)->handle;
    }
    // One torrent: ask libtorrent (we are on a worker thread) rather than trust the cache, which
    // only hears about torrents libtorrent flags as changed and can miss the last counters of a
    // transfer that ended between two ticks. Made from a copy so the cache's own transition
    // detection (and its events) is untouched.
    auto fresh = h.status(kStatusFlags);
    std::lock_guard lock(m.mutex);
    auto e = m.find(id);
    if (!e)
        return e.error();
    Entry copy = **e;
    copy.status = CachedStatus(fresh);
    copy.have_status = true;
    return view_of(m, copy);
}

} // namespace seedbox::daemon
