// Engine internals shared by the engine's .cpp files. Not to be included outside daemon/torrent/.
#pragma once

#include "daemon/base/events.h"
#include "daemon/btt_pay/accounting.h"
#include "daemon/btt_pay/payments.h"
#include "daemon/torrent/engine.h"
#include "daemon/torrent/status.h"
#include "ledger/state_store.h"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <libtorrent/alert_types.hpp>
#include <libtorrent/ip_filter.hpp>
#include <libtorrent/session.hpp>
#include <libtorrent/torrent_handle.hpp>
#include <libtorrent/torrent_status.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <tuple>
#include <unordered_map>

namespace seedbox::daemon {

// Our own per-torrent settings, persisted as JSON in state.db (torrents.meta).
struct TorrentMeta {
    std::vector<std::string> labels;
    std::int64_t added_time = 0;
    std::int64_t completed_time = 0;
    bool stopped = false;
    std::int64_t upload_limit = 0; // bytes/s, 0 = unlimited
    std::int64_t download_limit = 0;
    std::int64_t max_connections = -1;
    bool sequential = false;
    // Share limits: -1 = the label's or the default, -2 = none (TorrentView's meanings).
    double ratio_limit = -1;
    std::int64_t seed_time_limit = -1; // seconds
    std::int64_t idle_limit = -1;      // seconds
    std::string limit_action = "stop"; // stop | remove | remove_data
    bool limit_reached = false;        // stopped by a share limit (until started again)

    [[nodiscard]] nlohmann::json to_json() const;
    static TorrentMeta from_json(nlohmann::json const& j);
};

struct Entry {
    std::string id;
    std::int64_t number = 0; // state.db's stable number (torrents.number), >= 1
    std::uint64_t seq = 0;   // insertion order: lists are ordered by it
    lt::torrent_handle handle;
    CachedStatus status; // from the latest state_update_alert
    bool have_status = false;
    TorrentMeta meta;
    std::string save_path;
    std::string resume_state = "none"; // none | accepted | rejected
    std::int64_t resume_saved_time = 0;
    bool dirty = false; // resume data to save: set through Engine::Impl::mark_dirty
    // What the resume data holds that a status shows changing (pieces, all-time payload up and
    // down), as last seen outside a check: a change marks the torrent dirty. libtorrent's own
    // need_save_resume is set for every torrent it loads, so it cannot tell a changed one.
    std::optional<std::tuple<int, std::int64_t, std::int64_t>> progress;
    // Restored at start and not yet checked: its torrent_finished_alert is the reload, not a new
    // completion (no save, no torrent.finished event).
    bool restored = false;
    // Restored from state.db and handed to libtorrent (async_add_torrent), whose handle has not
    // come back yet: no handle, state `loading`. A torrent that failed to load keeps no handle
    // either, with `error` saying why.
    bool loading = false;
    bool failed = false; // libtorrent could not take it (after loading): no handle, ever
    // A handle libtorrent gave us: cheaper than handle.is_valid(), which locks a weak_ptr.
    [[nodiscard]] bool has_handle() const { return !loading && !failed; }
    bool source_is_magnet = false;         // until metadata is stored as a .torrent
    bool finished_pending = false;         // publish torrent.finished with the next (fresh) status
    bool first_completion_pending = false; // move_on_complete and the hook, with the next status
    bool hook_after_move = false;          // run hooks.on_complete once move_on_complete lands
    // Its completion time is not in state.db yet: written with the resume data that finished()
    // asked for, in one transaction (or alone, should that save fail).
    bool meta_unsaved = false;
    std::string error;
    // Files in its metadata, pad files left out: counted once the metadata is there (-1 until
    // then); under the engine's mutex.
    mutable std::int64_t num_files = -1;
};

std::string id_of(lt::info_hash_t const& ih);

// What torrent.add was given, parsed: a .torrent (at most max_metainfo_bytes) or a magnet URI.
// No session needed (tests/fuzz/metainfo_fuzz.cpp drives it with hostile bytes).
struct Source {
    lt::add_torrent_params atp;
    std::string kind; // metainfo | magnet
    ledger::Blob bytes;
    std::string id;
    std::string name;
};
[[nodiscard]] Result<Source> read_source(AddRequest const& req, std::int64_t max_metainfo_bytes);
ledger::Blob to_blob(std::vector<char> const& v);
// A .torrent built from a torrent_info's raw info section, so the info-hash is preserved exactly.
ledger::Blob torrent_file_of(lt::torrent_info const& ti);

// What the status cache asks libtorrent for: cheap fields only (no piece bitfields).
inline constexpr lt::status_flags_t kStatusFlags =
    lt::torrent_handle::query_name | lt::torrent_handle::query_torrent_file;
std::int64_t now_unix();
// uploaded / max(downloaded, wanted bytes done): the ratio share limits compare against.
double ratio_of(CachedStatus const& st);
// Seconds seeding since the last payload upload (all of its seeding time if it never uploaded);
// 0 when it is not seeding. What the idle share limit compares against.
std::int64_t idle_seconds(CachedStatus const& st);
// Unix seconds of the last payload sent or received; 0 never (Transmission's activityDate).
std::int64_t activity_time_of(CachedStatus const& st);

struct Engine::Impl {
    Impl(boost::asio::io_context& io, config::Config const& cfg, ledger::StateStore& store,
         EventHub& events)
        : io(io), cfg(cfg), store(store), events(events), tick_timer(io), resume_timer(io),
          shutdown_timer(io), alt_timer(io)
    {
    }

    boost::asio::io_context& io;
    config::Config cfg;
    ledger::StateStore& store;
    EventHub& events;
    std::shared_ptr<Accounting> accounting;
    std::shared_ptr<Payments> payments;
    std::unique_ptr<lt::session> ses;
    // Engine::open()'s work for start(): the session being opened, the stored rows (already in
    // the table as loading) and the stored session settings.
    std::future<std::unique_ptr<lt::session>> opening;
    std::vector<ledger::TorrentRow> stored_rows;
    nlohmann::json pending_settings;

    // guards torrents, stats, runtime_settings, applied_settings and cfg's runtime parts (labels,
    // hooks, the engine's own session settings in cfg.bt)
    mutable std::mutex mutex;
    std::map<std::string, Entry> torrents;
    // The same entries in the order they were added (by seq): what a list walks, with no sort
    // and no tree walk. Kept beside `torrents` by add_entry and erase_torrent (under mutex).
    std::vector<Entry*> by_seq;
    // Under mutex: puts `e` in the table with the next seq; null when its id is there already.
    Entry* add_entry(std::string const& id, Entry&& e);
    std::uint64_t next_seq = 1;
    // The numbers of torrents removed in the last kRemovedWindow seconds, with when (unix
    // seconds), oldest first: Transmission's recently-active "removed" list. Under mutex.
    static constexpr std::int64_t kRemovedWindow = 60;
    std::deque<std::pair<std::int64_t, std::int64_t>> removed;
    // Under mutex: takes the torrent out of the table and remembers its number.
    void erase_torrent(std::map<std::string, Entry>::iterator it);
    // Ids being written to state.db by add(), before they are in the table (under mutex), each
    // with the later adds of the same torrent, answered "already added" once it commits.
    std::map<std::string, std::vector<Torrents::AddDone>> adding;
    // The torrents whose resume data changed since the last save, each once (under mutex): a
    // save of N changed torrents costs O(N), not a pass over the table.
    std::vector<std::string> dirty_ids;
    void mark_dirty(Entry& e); // caller holds mutex

    // session statistics (io thread writes under mutex)
    std::vector<std::int64_t> counters, prev_counters;
    std::chrono::steady_clock::time_point counters_time{}, prev_counters_time{};
    std::int64_t started_time = now_unix();
    int listen_port = 0;
    // The BitTorrent listen sockets open now (TCP), from libtorrent's listen alerts.
    std::set<lt::tcp::endpoint> listening;
    nlohmann::json runtime_settings = nlohmann::json::object();
    // Every libtorrent setting we gave the session (base_settings, then each change): what
    // session.settings reads, so answering it needs no synchronous call into the network thread.
    lt::settings_pack applied_settings;

    boost::asio::steady_timer tick_timer, resume_timer, shutdown_timer, alt_timer;
    std::atomic<bool> stopping{false};
    std::atomic<bool> pex{true}; // runtime value of the pex setting (cfg.bt.pex at start)
    int outstanding_saves = 0;
    // The status tick (io thread only). Each second while anything moves; with no peer connected
    // and nothing checking for kQuietTicks ticks it slows to kIdleTick, and libtorrent's own tick
    // to 1 s, so an idle daemon sleeps. Any change made through the engine wakes it at once.
    static constexpr int kQuietTicks = 5;
    static constexpr std::chrono::seconds kIdleTick{10};
    int quiet_ticks = 0;
    std::atomic<bool> idle{false};     // written on the io thread only
    std::atomic<bool> woken{false};    // something changed since the last session stats
    std::uint64_t tick_generation = 0; // a tick scheduled before the last reschedule is stale
    void wake();                       // any thread
    // Alert pump figures for /metrics (io thread writes, any thread reads).
    std::atomic<std::uint64_t> alerts_handled{0};
    std::atomic<std::uint64_t> alerts_dropped{0}; // alert types lost to a full queue
    std::atomic<std::uint64_t> alerts_last_batch{0};
    std::function<void()> shutdown_done;

    // engine.cpp
    void drain_alerts();
    void handle(lt::alert* a);
    // handle()'s alerts that take more than a line or two (alerts.cpp).
    void on_torrent_error(lt::torrent_error_alert const& te);
    void on_storage_moved(lt::storage_moved_alert const& sm);
    void on_storage_moved_failed(lt::storage_moved_failed_alert const& smf);
    void on_listen_succeeded(lt::listen_succeeded_alert const& ls);
    void on_listen_failed(lt::listen_failed_alert const& lf);
    // Metadata received, checked, state changed, paused or resumed: a status refresh.
    void on_torrent_changed(lt::alert* a);
    void on_tracker_error(lt::tracker_error_alert const& tr);
    void on_state_update(lt::state_update_alert const& a);
    void on_save_resume(lt::save_resume_data_alert const& a);
    void on_save_resume_failed(lt::save_resume_data_failed_alert const& a);
    void on_finished(lt::torrent_finished_alert const& a);
    // Records a finished torrent (completed time, resume data now). Also called by add() for a
    // torrent that finished checking before it was in the table, whose alert found no entry.
    void finished(lt::torrent_handle const& h);
    // "<handle id> <tracker url>" -> when its failure was last logged at warn (alert thread).
    std::map<std::string, std::chrono::steady_clock::time_point> tracker_error_logged;
    void on_session_stats(lt::session_stats_alert const& a);
    void on_resume_attempt_done();
    // Runs fn on the cached entry of h under the mutex; false if the torrent is unknown.
    bool with_entry(lt::torrent_handle const& h, std::function<void(Entry&)> const& fn);
    void on_tick();
    void schedule_tick(std::chrono::milliseconds delay);
    // From each session_stats_alert: whether anything moves (peers, checks), and the tick's pace.
    void update_idle(std::vector<std::int64_t> const& counters);
    void set_idle(bool on);
    void schedule_resume_save();
    void save_dirty(bool all);
    void finish_shutdown();
    void check_share_limits();
    // check_share_limits' steps (share_limits.cpp). Under mutex: finds the torrents past a share
    // limit and stops those whose action is "stop"; returns each one's id and action.
    std::vector<std::pair<std::string, std::string>> reach_share_limits();
    // Removes a torrent that reached its share limit (with its data for "remove_data").
    void remove_at_share_limit(std::string const& id, std::string const& action);
    // Destroys the session (peers disconnect, trackers get "stopped"); idempotent.
    void close_session();
    // First completion of a download: move_on_complete for its label, then hooks.on_complete.
    void on_first_completion(lt::torrent_status const& st, std::vector<std::string> const& labels);
    void run_complete_hook(std::string const& id, std::string const& name,
                           std::string const& save_path, std::vector<std::string> const& labels);
    Result<Entry*> find(std::string const& id); // caller holds mutex
    // Errc::torrent_loading unless e has a libtorrent handle: one still loading after a restart,
    // or one that failed to load (which `failed_ok` accepts: it can still be removed).
    [[nodiscard]] static Status loaded(Entry const& e, bool failed_ok = false);
    // Waits up to kLoadWait until none of `ids` is loading (just added, or a restart): `lock`
    // holds mutex and is released while waiting. Never waits on the io thread, which delivers
    // the handles. Called from RPC workers.
    static constexpr std::chrono::seconds kLoadWait{2};
    void await_handles(std::unique_lock<std::mutex>& lock, std::vector<std::string> const& ids);
    // await_handles for one id, then find() and loaded().
    Result<Entry*> find_loaded(std::unique_lock<std::mutex>& lock, std::string const& id,
                               bool failed_ok = false);
    // Notified (under mutex) when a loading entry is done.
    std::condition_variable handles_cv;
    // for_each_id: every id known and loaded (see loaded()), then fn on each.
    Status for_each_id(std::vector<std::string> const& ids, std::function<void(Entry&)> const& fn,
                       bool failed_ok = false);
    std::string persist_meta(std::string const& id);
    // for_each_id, then marks each entry dirty, commits its meta to state.db and asks for a
    // status refresh: the shape of every settings-changing operation.
    Status change_persisted(std::vector<std::string> const& ids,
                            std::function<void(Entry&)> const& fn);
    // Another torrent (not in `leaving`) with a file at the same path as one of e's, as
    // "name (id)"; empty when none. Deleting e's data would break it. Caller holds mutex.
    [[nodiscard]] std::string shares_files(Entry const& e,
                                           std::set<std::string> const& leaving) const;
    // Engine::start's steps (startup.cpp): on the new session, the peer class filter, the
    // btt_pay plugin and payments, the alert pump; then every stored torrent.
    void set_up_session();
    // The API answers while torrents load: start() puts every stored torrent in the table as
    // `loading` (list_stored, add_loading), and the restorer thread reads each one's resume data
    // and hands it to libtorrent (restore, async_add_torrent); on_torrent_added gives the entry
    // its handle.
    std::vector<ledger::TorrentRow> list_stored();
    void start_restorer(std::vector<ledger::TorrentRow> rows,
                        std::function<void(std::string const&)> on_status);
    void add_loading(ledger::TorrentRow const& row); // caller holds mutex
    void restore(ledger::TorrentRow const& row);     // the restorer thread
    void on_torrent_added(lt::add_torrent_alert const& a);
    void loaded_one(); // io thread: one fewer loading; the last one logs and refreshes statuses
    void stop_loading();
    std::function<void(std::string const&)> on_load_status; // io thread, after start
    std::size_t loading_left = 0, loading_total = 0;        // io thread, after start
    std::chrono::steady_clock::time_point loading_since;
    std::jthread restorer; // joined by stop_loading, before the session closes
    void publish_state(Entry const& e, std::string const& previous);
    [[nodiscard]] TorrentState torrent_state(Entry const& e) const;
    [[nodiscard]] TorrentNote summary(Entry const& e) const;

    // operations.cpp: the steps of Engine::add after the checks, in order.
    // Answers an add of a torrent already in the table ("not added") and returns true; queues
    // an add of one being added by another call (answered by settle_add) and returns true; else
    // marks `id` as being added and returns false: the caller adds it, then calls settle_add.
    [[nodiscard]] bool claim_add(std::string const& id, std::string const& name,
                                 Torrents::AddDone& done);
    // add_async's last step, after claim_add: the row goes to state.db; its commit's completion
    // (on the writer thread) puts the torrent in the table, settles the add and answers `done`.
    void submit_add(Source&& src, std::string const& save_path, AddRequest const& req,
                    Torrents::AddDone const& done);
    // The add of `id` is over: answers the adds queued behind it, as `first` went.
    void settle_add(std::string const& id, Result<AddResult> const& first);
    // Once its row is committed (with row.number): puts the added torrent in the table as
    // loading, and hands it to libtorrent (async_add_torrent), unless the session has closed
    // (then it loads at the next start); returns its summary for the events.
    TorrentNote insert_added(ledger::TorrentRow const& row, TorrentMeta const& meta,
                             std::string const& name, lt::add_torrent_params&& atp);
    bool session_closed = false; // under mutex: set by close_session before the session goes
    // torrent.stats with it, then torrent.added.
    void publish_added(TorrentNote note, std::string const& save_path,
                       std::vector<std::string> const& labels);
    bool post_updates = false; // io thread: a status refresh after this drain (alerts ask for it)

    // session_settings.cpp
    lt::settings_pack base_settings() const;
    Status apply_settings(nlohmann::json const& changes, bool persist);
    SessionSettings current_settings() const;
    // apply_settings' steps, in order (caller holds no lock). Checks each change and turns it
    // into `p`, or into `own` for the engine's own settings (pex, alt speed, share defaults).
    Status pack_settings(nlohmann::json const& changes, lt::settings_pack& p,
                         nlohmann::json& own) const;
    // The listen_interfaces a listen_port change rewrites: `p`'s own, else the applied ones.
    [[nodiscard]] std::string listen_interfaces_base(lt::settings_pack const& p) const;
    // Under mutex: records the change (applied_settings, the engine's own settings in cfg.bt,
    // runtime_settings, listening sockets it drops, payments' upload limit, pex on each torrent)
    // and hands `p` with the rate limits in force to libtorrent. Returns runtime_settings, for
    // state.db.
    nlohmann::json commit_settings(nlohmann::json const& changes, lt::settings_pack&& p,
                                   std::string const& new_interfaces, nlohmann::json const& own);
    // Under mutex: the download and upload limits in force (bytes/s, 0 unlimited): the
    // alternative ones while bt.alt_speed is on, else the normal ones.
    [[nodiscard]] std::pair<int, int> effective_rates() const;

    // labels.cpp: the config file's labels and the runtime ones (state.db), merged into
    // cfg.labels (the runtime one wins). Under mutex.
    std::map<std::string, config::LabelPolicy> config_labels, runtime_labels;
    std::mutex labels_change_mutex; // serialises set_label/remove_label (taken before mutex)
    void load_runtime_labels();
    void merge_labels();
    // The save path a torrent added with `labels` and no save path of its own gets ("" none).
    [[nodiscard]] std::string label_save_path(std::vector<std::string> const& labels) const;

    // ip_filter.cpp: the blocklist and the ban list. Under filter_mutex (never taken with
    // `mutex` held, nor the other way round): the blocklist as last loaded, the bans, the info.
    std::mutex filter_mutex;
    lt::ip_filter list_filter;
    std::vector<std::string> ban_list;
    BlocklistInfo list_info;
    std::atomic<std::int64_t> peers_blocked{0};
    // One thread that loads lists when bt.blocklist is switched on (off the caller's thread).
    std::unique_ptr<boost::asio::thread_pool> loader;
    [[nodiscard]] std::string blocklist_dir() const;
    // Reads and parses the folder's lists into list_filter and list_info; applies.
    Result<BlocklistInfo> load_blocklist();
    // Gives libtorrent the blocklist (if on) plus the bans. Caller holds filter_mutex.
    void apply_ip_filter();
    // At start: the stored bans, and the lists when bt.blocklist is on (on the loader).
    void start_ip_filter();
    // bt.blocklist changed: load (on the loader) or drop the lists.
    void blocklist_switched(bool on);

    // alt_speed.cpp: the alternative speed schedule. Each minute (and when the schedule's
    // settings change, `force`), turns alt_speed on or off at the schedule's edges.
    void check_alt_schedule(bool force);
    void schedule_alt_check();
    // Io thread only: whether the schedule last put alt_speed on (nullopt: not yet decided,
    // or the schedule is off); a change by hand holds until the schedule's next edge.
    std::optional<bool> alt_schedule_state;
};

TorrentState state_of_status(CachedStatus const& st);

} // namespace seedbox::daemon
