// The alert pump: everything libtorrent reports arrives here, on the io thread, and becomes cache
// updates, state.db writes (never blocking: the store's writer thread commits) and notifications.
#include "daemon/base/hooks.h"
#include "daemon/torrent/engine_impl.h"

#include "daemon/base/paths.h"

#include <libtorrent/write_resume_data.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <utility>

namespace seedbox::daemon {

using json = nlohmann::json;

namespace {

TorrentFailed error_note(lt::torrent_alert const& a, lt::error_code const& ec,
                         std::string const& file, char const* operation)
{
    TorrentFailed note{id_of(a.handle.info_hashes()), a.torrent_name(), ec.message(), file};
    if (operation)
        note.operation = operation;
    return note;
}

} // namespace

bool Engine::Impl::with_entry(lt::torrent_handle const& h, std::function<void(Entry&)> const& fn)
{
    std::lock_guard lock(mutex);
    auto it = torrents.find(id_of(h.info_hashes()));
    if (it == torrents.end())
        return false;
    fn(it->second);
    return true;
}

void Engine::Impl::on_finished(lt::torrent_finished_alert const& a)
{
    // Every torrent is in the table before libtorrent has it (add(), start()): one not there has
    // been removed since.
    finished(a.handle);
}

void Engine::Impl::finished(lt::torrent_handle const& h)
{
    bool reloaded = false;
    bool known = with_entry(h, [&](Entry& e) {
        reloaded = std::exchange(e.restored, false) && e.meta.completed_time != 0;
        if (reloaded)
            return; // a complete torrent loaded at start: nothing new to save or announce
        if (e.meta.completed_time == 0) {
            e.meta.completed_time = now_unix();
            // Complete with no byte downloaded, as its last status says (its payload was there
            // when it was added: a cross-seed), it has no hook or move to run once only: the time
            // is stored with the resume data saved below, one state.db transaction instead of
            // two. Killed before that commit, it is checked and completed again at the next
            // start. A download's time is stored now, before its hook can run.
            if (e.status.all_time_download == 0)
                e.meta_unsaved = true;
            else
                store.update_meta(e.id, e.meta.to_json().dump(), e.save_path);
            // Handled with the next status update, which carries what it needs: no synchronous
            // status() call from the alert drain.
            e.first_completion_pending = true;
        }
        mark_dirty(e);
        e.finished_pending = true; // published with the next status, which shows it finished
    });
    if (!known || reloaded)
        return;
    // Save now so a finished download survives kill -9 without a recheck.
    h.save_resume_data(lt::torrent_handle::save_info_dict | lt::torrent_handle::flush_disk_cache);
    post_updates = true; // one status refresh after this drain
}

void Engine::Impl::on_first_completion(lt::torrent_status const& st,
                                       std::vector<std::string> const& labels)
{
    auto const& h = st.handle;
    // Added with its data already complete: nothing was downloaded, nothing to file away. (This
    // session's payload counter moves at once; all_time_download covers earlier sessions.)
    if (st.total_payload_download == 0 && st.all_time_download == 0)
        return;
    auto const id = id_of(st.info_hashes);
    std::string target;
    {
        std::lock_guard lock(mutex); // set_policies (SIGHUP) replaces cfg.labels
        for (auto const& l : labels) {
            auto it = cfg.labels.find(l);
            if (it != cfg.labels.end() && !it->second.move_on_complete.empty()) {
                target = it->second.move_on_complete;
                break;
            }
        }
    }
    if (!target.empty() && target != st.save_path) {
        // Checked again now, at the moment of use: the folder may have changed since start-up.
        auto dir =
            make_confined_dir(target, {cfg.torrent.default_save_path, cfg.torrent.allowed_roots});
        if (!dir) {
            spdlog::warn("torrent {}: not moved to move_on_complete {}: {}", id, target,
                         dir.error().message);
        } else {
            spdlog::info("torrent {} finished: moving it to {} (label move_on_complete)", id,
                         dir->string());
            with_entry(h, [](Entry& e) { e.hook_after_move = true; });
            h.move_storage(dir->string(), lt::move_flags_t::dont_replace);
            return; // the hook runs once the move lands (storage_moved_alert)
        }
    }
    run_complete_hook(id, st.name, st.save_path, labels);
}

void Engine::Impl::run_complete_hook(std::string const& id, std::string const& name,
                                     std::string const& save_path,
                                     std::vector<std::string> const& labels)
{
    config::HooksConfig hooks;
    {
        std::lock_guard lock(mutex); // set_policies (SIGHUP) replaces cfg.hooks
        hooks = cfg.hooks;
    }
    if (hooks.on_complete.empty())
        return;
    std::string joined;
    for (auto const& l : labels)
        joined += (joined.empty() ? "" : ",") + l;
    run_hook("on_complete", hooks.on_complete,
             {{"SEEDBOX_EVENT", "complete"},
              {"SEEDBOX_TORRENT_ID", id},
              {"SEEDBOX_TORRENT_NAME", name},
              {"SEEDBOX_SAVE_PATH", save_path},
              {"SEEDBOX_LABELS", joined}},
             std::chrono::seconds(hooks.timeout));
}

void Engine::Impl::on_session_stats(lt::session_stats_alert const& a)
{
    auto c = a.counters();
    std::vector<std::int64_t> now(c.begin(), c.end());
    update_idle(now);
    std::lock_guard lock(mutex);
    prev_counters = std::move(counters);
    prev_counters_time = counters_time;
    counters = std::move(now);
    counters_time = std::chrono::steady_clock::now();
}

void Engine::Impl::on_resume_attempt_done()
{
    if (stopping && --outstanding_saves <= 0)
        finish_shutdown();
}

void Engine::Impl::on_torrent_error(lt::torrent_error_alert const& te)
{
    spdlog::warn("{}", te.message());
    with_entry(te.handle, [&](Entry& e) { e.error = te.error.message(); });
    events.publish(error_note(te, te.error, te.filename(), nullptr));
    post_updates = true; // one status refresh after this drain
}

void Engine::Impl::on_storage_moved(lt::storage_moved_alert const& sm)
{
    spdlog::info("{}", sm.message());
    bool hook = false;
    std::string id, name;
    std::vector<std::string> labels;
    with_entry(sm.handle, [&](Entry& e) {
        e.save_path = sm.storage_path();
        mark_dirty(e);
        store.update_meta(e.id, e.meta.to_json().dump(), e.save_path);
        hook = std::exchange(e.hook_after_move, false);
        id = e.id;
        name = e.status.name;
        labels = e.meta.labels;
    });
    if (hook)
        run_complete_hook(id, name, sm.storage_path(), labels);
}

void Engine::Impl::on_storage_moved_failed(lt::storage_moved_failed_alert const& smf)
{
    spdlog::warn("{}", smf.message());
    bool hook = false;
    std::string id, name, path;
    std::vector<std::string> labels;
    with_entry(smf.handle, [&](Entry& e) {
        hook = std::exchange(e.hook_after_move, false);
        id = e.id;
        name = e.status.name;
        path = e.save_path;
        labels = e.meta.labels;
    });
    if (hook) // the data stayed where it was; the hook still learns the download is done
        run_complete_hook(id, name, path, labels);
    events.publish(error_note(smf, smf.error, smf.file_path(), "move"));
}

void Engine::Impl::on_listen_succeeded(lt::listen_succeeded_alert const& ls)
{
    spdlog::info("{}", ls.message());
    if (ls.socket_type == lt::socket_type_t::tcp) {
        std::lock_guard lock(mutex);
        listen_port = ls.port;
        listening.insert(lt::tcp::endpoint(ls.address, static_cast<std::uint16_t>(ls.port)));
    }
}

void Engine::Impl::on_listen_failed(lt::listen_failed_alert const& lf)
{
    spdlog::error("{}", lf.message());
    if (lf.socket_type == lt::socket_type_t::tcp) {
        std::lock_guard lock(mutex);
        listening.erase(lt::tcp::endpoint(lf.address, static_cast<std::uint16_t>(lf.port)));
    }
}

void Engine::Impl::on_torrent_changed(lt::alert* a)
{
    auto const& ta = *static_cast<lt::torrent_alert const*>(a);
    // A state change alone changes nothing in the resume data (our own settings say whether a
    // torrent runs): a restart's checks of 1,000 torrents must not mean 1,000 saves. New
    // metadata is saved now; a check that did not come from accepted resume data later.
    bool const metadata = lt::alert_cast<lt::metadata_received_alert>(a) != nullptr;
    bool const checked = lt::alert_cast<lt::torrent_checked_alert>(a) != nullptr;
    if (checked)
        with_entry(ta.handle, [this](Entry& e) {
            e.restored = false;
            if (e.resume_state != "accepted")
                mark_dirty(e);
        });
    if (metadata)
        ta.handle.save_resume_data(lt::torrent_handle::save_info_dict);
    wake();
    post_updates = true; // one status refresh after this drain
}

void Engine::Impl::on_tracker_error(lt::tracker_error_alert const& tr)
{
    // One line per failing tracker and torrent every 10 minutes, not one per listen socket
    // (IPv4, IPv6, each interface) and retry; the rest at debug.
    auto const key = std::to_string(tr.handle.id()) + " " + tr.tracker_url();
    auto const now = std::chrono::steady_clock::now();
    // A socket that cannot reach the tracker's address family (IPv6 to an IPv4-only
    // tracker) skips it: not a failure of the tracker.
    bool const skipped = tr.error == lt::errors::announce_skipped;
    auto& last = tracker_error_logged[key];
    if (!skipped && (last == std::chrono::steady_clock::time_point{} ||
                     now - last >= std::chrono::minutes(10))) {
        last = now;
        spdlog::warn("{} (further failures of this tracker for the next 10 minutes are "
                     "logged at debug level)",
                     tr.message());
    } else {
        spdlog::debug("{}", tr.message());
    }
    if (tracker_error_logged.size() > 10'000) // bounded: forget the oldest episode first
        tracker_error_logged.erase(
            std::min_element(tracker_error_logged.begin(), tracker_error_logged.end(),
                             [](auto const& x, auto const& y) { return x.second < y.second; }));
}

void Engine::Impl::handle(lt::alert* a)
{
    using namespace lt;
    if (auto* su = alert_cast<state_update_alert>(a)) {
        on_state_update(*su);
    } else if (auto* sr = alert_cast<save_resume_data_alert>(a)) {
        on_save_resume(*sr);
    } else if (auto* sf = alert_cast<save_resume_data_failed_alert>(a)) {
        on_save_resume_failed(*sf);
    } else if (auto* ss = alert_cast<session_stats_alert>(a)) {
        on_session_stats(*ss);
    } else if (auto* tf = alert_cast<torrent_finished_alert>(a)) {
        on_finished(*tf);
    } else if (auto* te = alert_cast<torrent_error_alert>(a)) {
        on_torrent_error(*te);
    } else if (auto* fe = alert_cast<file_error_alert>(a)) {
        spdlog::warn("{}", fe->message());
        events.publish(error_note(*fe, fe->error, fe->filename(), operation_name(fe->op)));
    } else if (auto* fr = alert_cast<fastresume_rejected_alert>(a)) {
        spdlog::warn("{}", fr->message());
        with_entry(fr->handle, [this](Entry& e) {
            e.resume_state = "rejected";
            mark_dirty(e);
        });
    } else if (auto* sm = alert_cast<storage_moved_alert>(a)) {
        on_storage_moved(*sm);
    } else if (auto* smf = alert_cast<storage_moved_failed_alert>(a)) {
        on_storage_moved_failed(*smf);
    } else if (auto* ls = alert_cast<listen_succeeded_alert>(a)) {
        on_listen_succeeded(*ls);
    } else if (auto* lf = alert_cast<listen_failed_alert>(a)) {
        on_listen_failed(*lf);
    } else if (auto* at = alert_cast<add_torrent_alert>(a)) {
        on_torrent_added(*at);
    } else if (alert_cast<peer_connect_alert>(a)) {
        wake(); // only asked for while idle (set_idle)
    } else if (auto* pb = alert_cast<peer_blocked_alert>(a)) {
        if (pb->reason == peer_blocked_alert::ip_filter)
            ++peers_blocked;
    } else if (auto* ad = alert_cast<alerts_dropped_alert>(a)) {
        // The queue overflowed: each set bit is an alert type that lost at least one alert.
        alerts_dropped += ad->dropped_alerts.count();
        spdlog::warn("{} (raise bt.alert_queue_size)", ad->message());
        post_updates = true; // one status refresh after this drain
    } else if (alert_cast<metadata_received_alert>(a) || alert_cast<torrent_checked_alert>(a) ||
               alert_cast<state_changed_alert>(a) || alert_cast<torrent_paused_alert>(a) ||
               alert_cast<torrent_resumed_alert>(a)) {
        on_torrent_changed(a);
    } else if (auto* tr = alert_cast<tracker_error_alert>(a)) {
        on_tracker_error(*tr);
    } else if ((a->category() & alert_category::error) || alert_cast<performance_alert>(a)) {
        spdlog::warn("{}", a->message());
    }
}

void Engine::Impl::on_state_update(lt::state_update_alert const& a)
{
    TorrentStats changed;
    std::vector<TorrentStateChanged> transitions;
    std::vector<TorrentFinished> finished;
    std::vector<std::pair<lt::torrent_status, std::vector<std::string>>> first_completions;
    {
        std::lock_guard lock(mutex);
        for (auto const& st : a.status) {
            auto it = torrents.find(id_of(st.info_hashes));
            if (it == torrents.end())
                continue;
            auto& e = it->second;
            bool const had_status = e.have_status; // plain values: GCC 12 misjudges optional<enum>
            auto const before = had_status ? torrent_state(e) : TorrentState::unknown;
            e.status = CachedStatus(st);
            e.have_status = true;
            if (st.state != lt::torrent_status::checking_files &&
                st.state != lt::torrent_status::checking_resume_data) {
                auto const now =
                    std::tuple(st.num_pieces, st.all_time_upload, st.all_time_download);
                if (e.progress && *e.progress != now)
                    mark_dirty(e);
                e.progress = now;
            }
            if (!st.errc)
                e.error.clear();
            if (had_status && before != torrent_state(e))
                transitions.push_back({summary(e), before});
            if (e.finished_pending) {
                e.finished_pending = false;
                finished.push_back({summary(e), e.save_path, e.meta.completed_time});
            }
            if (e.first_completion_pending) {
                e.first_completion_pending = false;
                first_completions.emplace_back(st, e.meta.labels);
            }
            changed.torrents.push_back(summary(e));
        }
    }
    for (auto& note : transitions)
        events.publish(std::move(note));
    for (auto& note : finished)
        events.publish(std::move(note));
    for (auto const& [st, labels] : first_completions)
        on_first_completion(st, labels);
    if (!changed.torrents.empty() && events.subscribers() > 0)
        events.publish(std::move(changed));
}

void Engine::Impl::on_save_resume(lt::save_resume_data_alert const& a)
{
    auto id = id_of(a.params.info_hashes);
    bool magnet_source = false;
    std::optional<ledger::MetaUpdate> meta;
    {
        std::lock_guard lock(mutex);
        auto it = torrents.find(id);
        if (it != torrents.end()) {
            magnet_source = it->second.source_is_magnet && a.params.ti;
            if (magnet_source)
                it->second.source_is_magnet = false;
            if (std::exchange(it->second.meta_unsaved, false))
                meta = ledger::MetaUpdate{it->second.meta.to_json().dump(), it->second.save_path};
        }
    }
    if (magnet_source)
        store.save_source(id, torrent_file_of(*a.params.ti));
    auto when = now_unix();
    store.save_resume(id, to_blob(lt::write_resume_data_buf(a.params)), when, std::move(meta),
                      [this, id, when](std::string const& err) {
                          if (!err.empty()) {
                              spdlog::error("torrent {}: saving resume data failed: {}", id, err);
                              return;
                          }
                          std::lock_guard lock(mutex);
                          if (auto it = torrents.find(id); it != torrents.end())
                              it->second.resume_saved_time = when;
                      });
    on_resume_attempt_done();
}

void Engine::Impl::on_save_resume_failed(lt::save_resume_data_failed_alert const& a)
{
    if (a.error != lt::errors::resume_data_not_modified)
        spdlog::warn("{}", a.message());
    with_entry(a.handle, [this](Entry& e) {
        if (std::exchange(e.meta_unsaved, false)) // what finished() meant to store with it
            store.update_meta(e.id, e.meta.to_json().dump(), e.save_path);
    });
    on_resume_attempt_done();
}

} // namespace seedbox::daemon
