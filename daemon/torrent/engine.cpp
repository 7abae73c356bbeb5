// The engine's life after start (startup.cpp): the periodic jobs (status ticks,
// resume-data saves), draining alerts, policies, and shutdown; and the small
// helpers the engine files share.
#include "daemon/torrent/engine_impl.h"

#include "daemon/base/paths.h"

#include <boost/asio/post.hpp>
#include <libtorrent/session_params.hpp>
#include <libtorrent/session_stats.hpp>
#include <libtorrent/version.hpp>
#include <libtorrent/write_resume_data.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace seedbox::daemon {

using json = nlohmann::json;

ledger::Blob to_blob(std::vector<char> const& v)
{
    return {v.begin(), v.end()};
}

// Builds a .torrent from a torrent_info's raw info section, so the info-hash is
// preserved exactly.
ledger::Blob torrent_file_of(lt::torrent_info const& ti)
{
    auto info = ti.info_section();
    std::string out = "d4:info";
    out.append(info.data(), static_cast<std::size_t>(info.size()));
    out += 'e';
    return {out.begin(), out.end()};
}

std::string libtorrent_version()
{
    return lt::version();
}

std::int64_t now_unix()
{
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string id_of(lt::info_hash_t const& ih)
{
    std::ostringstream os;
    if (ih.has_v1())
        os << ih.v1;
    else
        os << ih.v2;
    return os.str();
}

json TorrentMeta::to_json() const
{
    return {{"labels", labels},
            {"added_time", added_time},
            {"completed_time", completed_time},
            {"stopped", stopped},
            {"upload_limit", upload_limit},
            {"download_limit", download_limit},
            {"max_connections", max_connections},
            {"sequential", sequential},
            {"ratio_limit", ratio_limit},
            {"seed_time_limit", seed_time_limit},
            {"idle_limit", idle_limit},
            {"limit_reached", limit_reached},
            {"limit_action", limit_action}};
}

TorrentMeta TorrentMeta::from_json(json const& j)
{
    TorrentMeta m;
    if (!j.is_object())
        return m;
    m.labels = j.value("labels", m.labels);
    m.added_time = j.value("added_time", m.added_time);
    m.completed_time = j.value("completed_time", m.completed_time);
    m.stopped = j.value("stopped", m.stopped);
    m.upload_limit = j.value("upload_limit", m.upload_limit);
    m.download_limit = j.value("download_limit", m.download_limit);
    m.max_connections = j.value("max_connections", m.max_connections);
    m.sequential = j.value("sequential", m.sequential);
    m.ratio_limit = j.value("ratio_limit", m.ratio_limit);
    m.seed_time_limit = j.value("seed_time_limit", m.seed_time_limit);
    m.idle_limit = j.value("idle_limit", m.idle_limit);
    m.limit_reached = j.value("limit_reached", m.limit_reached);
    m.limit_action = j.value("limit_action", m.limit_action);
    return m;
}

Engine::Engine(boost::asio::io_context& io, config::Config const& cfg, ledger::StateStore& store,
               EventHub& events, std::shared_ptr<Accounting> accounting,
               std::shared_ptr<Payments> payments)
    : impl_(std::make_unique<Impl>(io, cfg, store, events))
{
    impl_->pex = cfg.bt.pex;
    impl_->accounting = std::move(accounting);
    impl_->payments = std::move(payments);
}

void Engine::close()
{
    if (impl_->payments)
        impl_->payments->detach();
    impl_->close_session();
}

// Out of line and named, so tests/tsan.supp can point at libtorrent's own
// teardown races.
[[gnu::noinline]] void Engine::Impl::close_session()
{
    if (!ses)
        return;
    {
        std::lock_guard lock(mutex); // an add committing now finds it closed (insert_added)
        session_closed = true;
    }
    ses.reset();
    spdlog::debug("libtorrent session closed");
}

// The state store outlives the engine, and its writer thread runs the
// completions of the engine's writes (resume data saved, rows stored), which
// update the torrent table. Every completion queued so far runs before that
// table goes: flush() returns after a no-op queued behind them all (found by
// ThreadSanitizer: the writer read the table while it was being destroyed).
Engine::~Engine()
{
    impl_->stop_loading();  // it hands torrents to the session
    impl_->close_session(); // no more alerts, so no more writes
    impl_->store.flush();
}

bool Engine::stopping() const
{
    return impl_->stopping;
}

void Engine::Impl::schedule_tick(std::chrono::milliseconds delay)
{
    tick_timer.expires_after(delay);
    tick_timer.async_wait([this, generation = ++tick_generation](boost::system::error_code ec) {
        if (ec || stopping || generation != tick_generation)
            return;
        on_tick();
        schedule_tick(idle ? kIdleTick : std::chrono::seconds(1));
    });
}

void Engine::Impl::wake()
{
    woken = true;
    if (!idle)
        return;
    boost::asio::post(io, [this] {
        if (!idle || stopping)
            return;
        set_idle(false);
        schedule_tick(std::chrono::milliseconds(0)); // fresh statuses now
    });
}

void Engine::Impl::update_idle(std::vector<std::int64_t> const& c)
{
    static int const peers = lt::find_metric_idx("peer.num_peers_connected");
    static int const half_open = lt::find_metric_idx("peer.num_peers_half_open");
    static int const checking = lt::find_metric_idx("ses.num_checking_torrents");
    auto const at = [&c](int i) { return i >= 0 && std::size_t(i) < c.size() ? c[i] : 0; };
    bool const quiet =
        !woken.exchange(false) && at(peers) == 0 && at(half_open) == 0 && at(checking) == 0;
    quiet_ticks = quiet ? quiet_ticks + 1 : 0;
    if (bool const now = quiet_ticks >= kQuietTicks; now != idle)
        set_idle(now);
}

void Engine::Impl::schedule_resume_save()
{
    resume_timer.expires_after(std::chrono::seconds(cfg.state.resume_save_interval));
    resume_timer.async_wait([this](boost::system::error_code ec) {
        if (ec || stopping)
            return;
        save_dirty(false);
        schedule_resume_save();
    });
}

void Engine::Impl::on_tick()
{
    ses->post_torrent_updates(kStatusFlags);
    ses->post_session_stats();
    check_share_limits();
}

void Engine::set_policies(std::map<std::string, config::LabelPolicy> labels,
                          config::HooksConfig hooks)
{
    std::lock_guard lock(impl_->mutex); // cfg.labels and cfg.hooks are read under it
    impl_->config_labels = std::move(labels);
    impl_->merge_labels();
    impl_->cfg.hooks = std::move(hooks);
}

void Engine::Impl::save_dirty(bool all)
{
    std::vector<lt::torrent_handle> handles;
    std::vector<std::string> kept;
    {
        std::lock_guard lock(mutex);
        if (all) {
            for (auto& [id, e] : torrents) {
                if (!e.has_handle())
                    continue; // not loaded: its stored resume data is still the latest
                e.dirty = false;
                handles.push_back(e.handle);
            }
        } else {
            for (auto const& id : dirty_ids)
                if (auto it = torrents.find(id); it != torrents.end() && it->second.dirty) {
                    if (!it->second.has_handle()) {
                        kept.push_back(id); // still loading: saved once it has loaded
                        continue;
                    }
                    it->second.dirty = false;
                    handles.push_back(it->second.handle);
                }
        }
        dirty_ids = std::move(kept);
    }
    if (!handles.empty())
        spdlog::debug("saving the resume data of {} torrent(s)", handles.size());
    for (auto& h : handles) {
        h.save_resume_data(
            lt::torrent_handle::save_info_dict |
            (all ? lt::torrent_handle::flush_disk_cache : lt::resume_data_flags_t{}));
        if (stopping)
            ++outstanding_saves;
    }
}

void Engine::Impl::drain_alerts()
{
    if (!ses)
        return;
    std::vector<lt::alert*> alerts;
    ses->pop_alerts(&alerts);
    alerts_handled += alerts.size();
    alerts_last_batch = alerts.size();
    for (auto* a : alerts) {
        try {
            handle(a);
        } catch (std::exception const& ex) {
            spdlog::error("error handling alert {}: {}", a->what(), ex.what());
        }
    }
    if (std::exchange(post_updates, false))
        ses->post_torrent_updates(kStatusFlags);
}

void Engine::shutdown(std::function<void()> done)
{
    auto& m = *impl_;
    if (m.stopping.exchange(true))
        return;
    m.shutdown_done = std::move(done);
    m.stop_loading(); // torrents not loaded yet keep their stored rows as they are
    m.tick_timer.cancel();
    m.resume_timer.cancel();
    m.alt_timer.cancel();
    spdlog::info("shutting down: pausing session and saving resume data");
    m.ses->pause();
    m.outstanding_saves = 0;
    m.save_dirty(true);
    if (m.outstanding_saves == 0) {
        m.finish_shutdown();
        return;
    }
    m.shutdown_timer.expires_after(std::chrono::seconds(m.cfg.state.shutdown_timeout));
    m.shutdown_timer.async_wait([&m](boost::system::error_code ec) {
        if (ec)
            return;
        spdlog::warn("shutdown: {} resume save(s) still outstanding after {} s; giving up",
                     m.outstanding_saves, m.cfg.state.shutdown_timeout);
        m.finish_shutdown();
    });
}

void Engine::Impl::finish_shutdown()
{
    if (!shutdown_done)
        return;
    shutdown_timer.cancel();
    auto state = lt::write_session_params_buf(ses->session_state(lt::session::save_dht_state),
                                              lt::session::save_dht_state);
    store.put_blob("session", to_blob(state));
    auto done = std::move(shutdown_done);
    shutdown_done = nullptr;
    spdlog::info("resume data saved");
    boost::asio::post(io, std::move(done));
}

void Engine::Impl::mark_dirty(Entry& e)
{
    if (std::exchange(e.dirty, true))
        return;
    dirty_ids.push_back(e.id);
}

Result<Entry*> Engine::Impl::find(std::string const& id)
{
    auto it = torrents.find(id);
    if (it == torrents.end())
        return make_error(Errc::torrent_not_found, "no torrent with id " + id);
    return &it->second;
}

Status Engine::Impl::loaded(Entry const& e, bool failed_ok)
{
    if (e.loading)
        return make_error(Errc::torrent_loading,
                          "torrent " + e.id +
                              " is still loading (the daemon has just started); retry shortly");
    if (e.failed && !failed_ok)
        return make_error(Errc::torrent_loading, "torrent " + e.id + " failed to load: " + e.error +
                                                     "; only torrent.remove works on it");
    return Ok{};
}

void Engine::Impl::await_handles(std::unique_lock<std::mutex>& lock,
                                 std::vector<std::string> const& ids)
{
    if (io.get_executor().running_in_this_thread())
        return; // the io thread delivers the handles: it must not wait for them
    handles_cv.wait_for(lock, kLoadWait, [&] {
        return std::none_of(ids.begin(), ids.end(), [&](std::string const& id) {
            auto it = torrents.find(id);
            return it != torrents.end() && it->second.loading;
        });
    });
}

Result<Entry*> Engine::Impl::find_loaded(std::unique_lock<std::mutex>& lock, std::string const& id,
                                         bool failed_ok)
{
    await_handles(lock, {id});
    auto e = find(id);
    if (!e)
        return e;
    if (auto st = loaded(**e, failed_ok); !st)
        return st.error();
    return e;
}

Status Engine::Impl::for_each_id(std::vector<std::string> const& ids,
                                 std::function<void(Entry&)> const& fn, bool failed_ok)
{
    if (ids.empty())
        return make_error(Errc::invalid_argument, "ids: at least one torrent id is required");
    std::unique_lock lock(mutex);
    await_handles(lock, ids);
    for (auto const& id : ids) {
        auto e = find(id);
        if (!e)
            return e.error();
        if (auto st = loaded(**e, failed_ok); !st)
            return st;
    }
    for (auto const& id : ids)
        fn(torrents.at(id));
    return Ok{};
}

Status Engine::Impl::change_persisted(std::vector<std::string> const& ids,
                                      std::function<void(Entry&)> const& fn)
{
    // The cached status changes here, before libtorrent's alert: on_state_update
    // then sees no change, so the transition (stop, start) is announced here.
    std::vector<TorrentStateChanged> transitions;
    auto st = for_each_id(ids, [&](Entry& e) {
        bool const had_status = e.have_status; // plain values: GCC 12 misjudges optional<enum>
        auto const before = had_status ? torrent_state(e) : TorrentState::unknown;
        fn(e);
        mark_dirty(e);
        if (had_status && before != torrent_state(e))
            transitions.push_back({summary(e), before});
    });
    if (!st)
        return st;
    wake();
    for (auto& note : transitions)
        events.publish(std::move(note));
    for (auto const& id : ids)
        if (auto err = persist_meta(id); !err.empty())
            return make_error(Errc::storage_failed, err);
    ses->post_torrent_updates(kStatusFlags);
    return Ok{};
}

std::string Engine::Impl::persist_meta(std::string const& id)
{
    std::string meta, save_path;
    {
        std::lock_guard lock(mutex);
        auto it = torrents.find(id);
        if (it == torrents.end())
            return {};
        meta = it->second.meta.to_json().dump();
        save_path = it->second.save_path;
    }
    return store.wait([&](auto done) { store.update_meta(id, meta, save_path, std::move(done)); });
}

} // namespace seedbox::daemon
