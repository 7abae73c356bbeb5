// Torrent operations called from RPC worker threads: add, remove, start, stop, recheck,
// reannounce, move. Each validates everything before changing anything.
#include "daemon/torrent/engine_impl.h"

#include <algorithm>

#include "daemon/base/paths.h"

#include <libtorrent/magnet_uri.hpp>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <future>
#include <memory>
#include <set>

namespace seedbox::daemon {

using json = nlohmann::json;
namespace fs = std::filesystem;

Result<Source> read_source(AddRequest const& req, std::int64_t max_metainfo_bytes)
{
    Source src;
    lt::error_code ec;
    if (!req.metainfo.empty()) {
        if (static_cast<std::int64_t>(req.metainfo.size()) > max_metainfo_bytes)
            return make_error(Errc::invalid_metainfo,
                              "the .torrent is " + std::to_string(req.metainfo.size()) +
                                  " bytes; the limit is " + std::to_string(max_metainfo_bytes));
        std::shared_ptr<lt::torrent_info> ti;
        try {
            ti = std::make_shared<lt::torrent_info>(lt::span<char const>(req.metainfo), ec,
                                                    lt::from_span);
        } catch (std::exception const& ex) {
            return make_error(Errc::invalid_metainfo,
                              std::string("invalid .torrent: ") + ex.what());
        }
        if (ec)
            return make_error(Errc::invalid_metainfo, "invalid .torrent: " + ec.message());
        src.atp.ti = std::move(ti);
        src.kind = "metainfo";
        src.bytes.assign(req.metainfo.begin(), req.metainfo.end());
    } else {
        src.atp = lt::parse_magnet_uri(req.magnet, ec);
        if (ec)
            return make_error(Errc::invalid_magnet, "invalid magnet link: " + ec.message());
        src.kind = "magnet";
        src.bytes.assign(req.magnet.begin(), req.magnet.end());
    }
    auto const& ti = src.atp.ti;
    src.id = id_of(ti ? ti->info_hashes() : src.atp.info_hashes);
    src.name = ti ? ti->name() : (src.atp.name.empty() ? src.id : src.atp.name);
    return src;
}

namespace {

// Our settings of a torrent added now, as torrent.add asked.
TorrentMeta meta_of(AddRequest const& req)
{
    TorrentMeta meta;
    meta.labels = req.labels;
    meta.added_time = now_unix();
    meta.stopped = req.paused;
    return meta;
}

// Where libtorrent keeps the torrent, and how it starts: paused or auto-managed as asked, in seed
// mode if asked, without PEX while the pex setting is off.
void prepare_params(lt::add_torrent_params& atp, AddRequest const& req,
                    std::string const& save_path, bool pex)
{
    atp.save_path = save_path;
    atp.flags &= ~(lt::torrent_flags::paused | lt::torrent_flags::auto_managed);
    atp.flags |= req.paused ? lt::torrent_flags::paused : lt::torrent_flags::auto_managed;
    if (req.seed_mode)
        atp.flags |= lt::torrent_flags::seed_mode;
    if (!pex)
        atp.flags |= lt::torrent_flags::disable_pex;
}

// The state.db row of a torrent added now (takes the source's bytes).
ledger::TorrentRow row_of(Source& src, std::string const& save_path, TorrentMeta const& meta)
{
    ledger::TorrentRow row;
    row.source_kind = src.kind;
    row.source = std::move(src.bytes);
    row.id = src.id;
    row.save_path = save_path;
    row.meta_json = meta.to_json().dump();
    row.added_time = meta.added_time;
    return row;
}

} // namespace

bool Engine::Impl::claim_add(std::string const& id, std::string const& name, AddDone& done)
{
    std::unique_lock lock(mutex);
    if (auto it = torrents.find(id); it != torrents.end()) {
        auto const& known = it->second.status.name;
        lock.unlock();
        done(AddResult{id, known.empty() ? name : known, false});
        return true;
    }
    auto [it, first] = adding.try_emplace(id);
    if (!first) // being added by another call: answered with its commit, no worker waits
        it->second.push_back(std::move(done));
    return !first;
}

void Engine::Impl::settle_add(std::string const& id, Result<AddResult> const& first)
{
    std::vector<AddDone> waiting;
    {
        std::lock_guard lock(mutex);
        if (auto it = adding.find(id); it != adding.end()) {
            waiting = std::move(it->second);
            adding.erase(it);
        }
    }
    for (auto& done : waiting) {
        if (first)
            done(AddResult{id, first.value().name, false});
        else
            done(first.error());
    }
}

TorrentNote Engine::Impl::insert_added(ledger::TorrentRow const& row, TorrentMeta const& meta,
                                       std::string const& name, lt::add_torrent_params&& atp)
{
    Entry e;
    e.id = row.id;
    e.number = row.number;
    e.meta = meta;
    e.save_path = row.save_path;
    e.status.name = name;
    e.source_is_magnet = row.source_kind == "magnet";
    e.loading = true; // until libtorrent's add_torrent_alert (on_torrent_added)
    std::lock_guard lock(mutex);
    auto* added = add_entry(row.id, std::move(e)); // its add was claimed: not there yet
    auto& stored = added ? *added : torrents.at(row.id);
    mark_dirty(stored); // its first resume data: no recheck at the next start
    // Under the mutex: in the table before libtorrent has it, and never into a closed session
    // (async_add_torrent only posts to libtorrent's thread).
    if (!session_closed)
        ses->async_add_torrent(std::move(atp));
    return summary(stored);
}

void Engine::Impl::publish_added(TorrentNote note, std::string const& save_path,
                                 std::vector<std::string> const& labels)
{
    // Its first statuses may come before a watcher hears of it: show it in a stats event now, so
    // a watcher always sees every torrent at least once.
    events.publish(TorrentStats{{note}});
    events.publish(TorrentAdded{std::move(note), save_path, labels});
}

namespace {

// An add between its checks and its commit.
struct Adding {
    lt::add_torrent_params atp;
    ledger::TorrentRow row;
    TorrentMeta meta;
    std::string name;
    std::vector<std::string> labels;
};

} // namespace

// Durable before the answer: the row is committed (sharing a transaction with the adds queued
// beside it), then the torrent enters the table as `loading` and libtorrent adds it on its own
// thread; calls that need it wait for its handle (find_loaded).
void Engine::add_async(AddRequest const& req, AddDone done)
{
    auto& m = *impl_;
    if (m.stopping)
        return done(make_error(Errc::shutting_down, "the daemon is shutting down"));
    auto src = read_source(req, m.cfg.torrent.max_metainfo_bytes);
    if (!src)
        return done(src.error());
    // Created here, component by component, so the directory libtorrent writes into is the one
    // that was checked (no symlink to outside, none to nothing).
    auto where = req.save_path.empty() ? m.label_save_path(req.labels) : req.save_path;
    auto save = make_confined_dir(where.empty() ? m.cfg.torrent.default_save_path : where,
                                  {m.cfg.torrent.default_save_path, m.cfg.torrent.allowed_roots});
    if (!save)
        return done(make_error(Errc::path_not_allowed, "save_path: " + save.error().message));
    if (m.claim_add(src->id, src->name, done))
        return;
    // From here `id` is in `adding`: whatever happens, settle_add must see it out, or the adds
    // queued behind it would never be answered.
    auto const id = src->id;
    try {
        m.submit_add(std::move(*src), save->string(), req, done);
    } catch (std::exception const& e) {
        Result<AddResult> failed =
            make_error(Errc::storage_failed, std::string("cannot add the torrent: ") + e.what());
        m.settle_add(id, failed);
        done(std::move(failed));
    }
}

void Engine::Impl::submit_add(Source&& src, std::string const& save_path, AddRequest const& req,
                              AddDone const& done)
{
    auto const meta = meta_of(req);
    prepare_params(src.atp, req, save_path, pex);
    auto const name = src.name;
    auto add = std::make_shared<Adding>(
        Adding{std::move(src.atp), row_of(src, save_path, meta), meta, name, req.labels});
    auto& m = *this;
    store.insert_torrent(add->row, [&m, add, done](std::string const& err, std::int64_t number) {
        auto const& id = add->row.id;
        if (!err.empty()) {
            Result<AddResult> failed =
                make_error(Errc::storage_failed, "cannot record the torrent in state.db: " + err);
            m.settle_add(id, failed);
            return done(std::move(failed));
        }
        add->row.number = number;
        auto note = m.insert_added(add->row, add->meta, add->name, std::move(add->atp));
        m.wake();
        m.publish_added(std::move(note), add->row.save_path, add->labels);
        spdlog::info("added torrent {} ({})", add->name, id);
        Result<AddResult> added = AddResult{id, add->name, true};
        m.settle_add(id, added);
        done(std::move(added));
    });
}

std::shared_ptr<void> Engine::group_commits()
{
    return impl_->store.hold();
}

Result<AddResult> Engine::add(AddRequest const& req)
{
    // A caller blocked on the commit: no batch's hold delays it.
    auto const urgent = impl_->store.urgent();
    std::promise<Result<AddResult>> added;
    auto result = added.get_future();
    add_async(req, [&added](Result<AddResult> r) { added.set_value(std::move(r)); });
    return result.get();
}

namespace {

// The paths of a torrent's files, as libtorrent would delete them.
std::set<fs::path> file_paths(Entry const& e, lt::torrent_info const& ti)
{
    std::set<fs::path> out;
    auto const& files = ti.files();
    for (auto i : files.file_range())
        if (!files.pad_file_at(i))
            out.insert((fs::path(e.save_path) / files.file_path(i)).lexically_normal());
    return out;
}

// Where a torrent's files all live: its folder (multi-file) or its one file, under save_path.
fs::path top_of(Entry const& e, lt::torrent_info const& ti)
{
    auto const& files = ti.files();
    if (files.num_files() == 0)
        return {};
    auto const first = fs::path(files.file_path(lt::file_index_t{0}));
    return (fs::path(e.save_path) / *first.begin()).lexically_normal();
}

} // namespace

std::string Engine::Impl::shares_files(Entry const& e, std::set<std::string> const& leaving) const
{
    auto const my_ti = e.status.torrent_file.lock();
    if (!my_ti)
        return {};
    auto const mine = file_paths(e, *my_ti);
    auto const my_top = top_of(e, *my_ti);
    for (auto const& [id, other] : torrents) {
        if (leaving.count(id))
            continue;
        auto ti = other.status.torrent_file.lock();
        // Files can only coincide when the two torrents' folders (or single files) do: one path
        // comparison per torrent, the file lists only then.
        if (!ti || top_of(other, *ti) != my_top)
            continue;
        auto const& files = ti->files();
        for (auto i : files.file_range())
            if (mine.count((fs::path(other.save_path) / files.file_path(i)).lexically_normal()))
                return (other.have_status ? other.status.name : id) + " (" + id + ")";
    }
    return {};
}

void Engine::Impl::erase_torrent(std::map<std::string, Entry>::iterator it)
{
    auto const now = now_unix();
    while (!removed.empty() && removed.front().second < now - kRemovedWindow)
        removed.pop_front();
    removed.emplace_back(it->second.number, now);
    by_seq.erase(std::find(by_seq.begin(), by_seq.end(), &it->second));
    torrents.erase(it);
}

Entry* Engine::Impl::add_entry(std::string const& id, Entry&& e)
{
    e.seq = next_seq++;
    auto [it, added] = torrents.try_emplace(id, std::move(e));
    if (!added)
        return nullptr;
    by_seq.push_back(&it->second);
    return &it->second;
}

std::vector<std::int64_t> Engine::removed_numbers()
{
    std::lock_guard lock(impl_->mutex);
    auto const since = now_unix() - Impl::kRemovedWindow;
    std::vector<std::int64_t> out;
    for (auto const& [number, when] : impl_->removed)
        if (when >= since)
            out.push_back(number);
    return out;
}

Status Engine::remove(std::vector<std::string> const& ids, bool delete_data)
{
    auto& m = *impl_;
    std::vector<std::pair<std::string, lt::torrent_handle>> gone;
    std::vector<TorrentRemoved> notes;
    std::set<std::string> const leaving(ids.begin(), ids.end());
    std::string conflict;
    auto st = m.for_each_id(
        ids,
        [&](Entry& e) {
            gone.emplace_back(e.id, e.handle);
            notes.push_back({e.id, e.have_status ? e.status.name : e.id, delete_data});
            if (delete_data && conflict.empty())
                if (auto other = m.shares_files(e, leaving); !other.empty())
                    conflict = e.id + ": its files are also the data of torrent " + other +
                               "; deleting them would break it. Remove without delete_data, or "
                               "remove that torrent too";
        },
        /*failed_ok=*/true);
    if (!st)
        return st;
    if (!conflict.empty())
        return make_error(Errc::data_in_use, conflict);
    for (auto const& [id, h] : gone) {
        if (h.is_valid()) // one that failed to load is only in the table and state.db
            m.ses->remove_torrent(h,
                                  delete_data ? lt::session::delete_files : lt::remove_flags_t{});
        auto err = m.store.wait([&m, &id = id](auto done) {
            // Submitted under the mutex: an add of the same torrent after this point queues its
            // INSERT behind this DELETE, never ahead of it (the row would be lost).
            std::lock_guard lock(m.mutex);
            if (auto it = m.torrents.find(id); it != m.torrents.end())
                m.erase_torrent(it);
            m.store.remove_torrent(id, std::move(done));
        });
        if (!err.empty())
            return make_error(Errc::storage_failed,
                              "cannot remove " + id + " from state.db: " + err);
        spdlog::info("removed torrent {}{}", id, delete_data ? " and its data" : "");
    }
    for (auto& n : notes)
        m.events.publish(std::move(n));
    return Ok{};
}

Status Engine::start_torrents(std::vector<std::string> const& ids)
{
    return impl_->change_persisted(ids, [](Entry& e) {
        e.meta.stopped = false;
        e.meta.limit_reached = false;
        e.handle.clear_error();
        e.handle.set_flags(lt::torrent_flags::auto_managed);
        e.handle.resume();
        e.status.flags |= lt::torrent_flags::auto_managed;
        e.status.flags &= ~lt::torrent_flags::paused;
    });
}

Status Engine::stop_torrents(std::vector<std::string> const& ids)
{
    return impl_->change_persisted(ids, [](Entry& e) {
        e.meta.stopped = true;
        e.handle.unset_flags(lt::torrent_flags::auto_managed);
        e.handle.pause();
        e.status.flags &= ~lt::torrent_flags::auto_managed;
        e.status.flags |= lt::torrent_flags::paused;
    });
}

Status Engine::recheck(std::vector<std::string> const& ids)
{
    auto st = impl_->for_each_id(ids, [](Entry& e) { e.handle.force_recheck(); });
    impl_->ses->post_torrent_updates(kStatusFlags);
    return st;
}

Status Engine::reannounce(std::vector<std::string> const& ids)
{
    return impl_->for_each_id(ids, [](Entry& e) { e.handle.force_reannounce(); });
}

Status Engine::queue_move(std::vector<std::string> const& ids, QueueMove to)
{
    // As Transmission: several torrents keep their order among themselves. Each moves in turn,
    // by queue position: from the front for up and bottom, from the back for top and down.
    auto ordered = ids;
    {
        std::lock_guard lock(impl_->mutex);
        auto position = [&](std::string const& id) {
            auto it = impl_->torrents.find(id);
            return it == impl_->torrents.end() ? 0
                                               : static_cast<int>(it->second.status.queue_position);
        };
        std::stable_sort(ordered.begin(), ordered.end(),
                         [&](auto const& a, auto const& b) { return position(a) < position(b); });
    }
    if (to == QueueMove::top || to == QueueMove::down)
        std::reverse(ordered.begin(), ordered.end());
    auto st = impl_->for_each_id(ordered, [to](Entry& e) {
        switch (to) {
        case QueueMove::top:
            return e.handle.queue_position_top();
        case QueueMove::up:
            return e.handle.queue_position_up();
        case QueueMove::down:
            return e.handle.queue_position_down();
        case QueueMove::bottom:
            return e.handle.queue_position_bottom();
        }
    });
    impl_->ses->post_torrent_updates(kStatusFlags);
    return st;
}

Status Engine::move(std::string const& id, std::string const& path)
{
    auto& m = *impl_;
    auto target =
        make_confined_dir(path, {m.cfg.torrent.default_save_path, m.cfg.torrent.allowed_roots});
    if (!target)
        return make_error(target.error().code, "path: " + target.error().message);
    return m.for_each_id({id}, [&](Entry& e) {
        e.handle.move_storage(target->string(), lt::move_flags_t::dont_replace);
    });
}

} // namespace seedbox::daemon
