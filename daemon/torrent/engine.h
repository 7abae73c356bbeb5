// TorrentEngine: owns the libtorrent session, its alert pump, the status cache, resume data and
// per-torrent settings. The only code that sees libtorrent (its headers stay in engine_impl.h).
//
// Threads: start()/shutdown() run on the io thread, which also drains alerts and runs the timers.
// Every other public method is thread-safe and may block briefly on libtorrent or on the state
// store's writer, so call them from RPC worker threads, never from the io thread.
#pragma once

#include "config/settings.h"
#include "daemon/base/errors.h"
#include "daemon/torrent/torrents.h"

#include <boost/asio/io_context.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace seedbox::ledger {
class StateStore;
}

namespace seedbox::daemon {

class EventHub;
class Accounting;
class Payments;

class Engine final : public Torrents {
public:
    // `accounting` (may be null) receives per-peer byte counts from the btt_pay plugin;
    // `payments` (may be null: no key) lets the plugin speak the btt_pay extension.
    Engine(boost::asio::io_context& io, config::Config const& cfg, ledger::StateStore& store,
           EventHub& events, std::shared_ptr<Accounting> accounting = nullptr,
           std::shared_ptr<Payments> payments = nullptr);
    ~Engine();
    Engine(Engine const&) = delete;

    // Before start(), on the thread that will run start(): checks the stored settings, starts
    // opening libtorrent's session on a thread of its own and lists every stored torrent as
    // `loading`, so the caller can set up the rest of the daemon while the session opens. Error
    // text or empty.
    [[nodiscard]] std::string open();
    // Io thread. Takes the session open() started (calling open() first if nobody did), applies
    // the stored settings and hands every stored torrent to a background loader. `on_status`
    // receives progress lines (for logs / sd_notify STATUS=). Error text or empty.
    [[nodiscard]] std::string start(std::function<void(std::string const&)> on_status = {});

    // Io thread. Pauses, saves resume data of changed torrents and session state, waits at most
    // state.shutdown_timeout, then calls `done` (on the io thread).
    void shutdown(std::function<void()> done);
    [[nodiscard]] bool stopping() const;
    // After the io thread has stopped: destroys the session, which disconnects every peer (their
    // last byte counts reach Accounting) and sends tracker "stopped" announces (bounded).
    void close();

    Result<AddResult> add(AddRequest const& req) override;
    void add_async(AddRequest const& req, AddDone done) override;
    Status remove(std::vector<std::string> const& ids, bool delete_data) override;
    Status start_torrents(std::vector<std::string> const& ids) override;
    Status stop_torrents(std::vector<std::string> const& ids) override;
    Status recheck(std::vector<std::string> const& ids) override;
    Status reannounce(std::vector<std::string> const& ids) override;
    Status move(std::string const& id, std::string const& path) override;
    Status queue_move(std::vector<std::string> const& ids, QueueMove to) override;
    [[nodiscard]] std::vector<std::int64_t> removed_numbers() override;

    [[nodiscard]] std::shared_ptr<void> group_commits() override;

    Result<std::vector<TorrentView>> list(std::vector<std::string> const& ids,
                                          std::optional<std::string> const& label) override;
    Status each(std::vector<std::string> const& ids, std::optional<std::string> const& label,
                ViewSink const& fn) override;
    Result<TorrentView> get(std::string const& id) override;

    Result<std::vector<FileView>> files(std::string const& id) override;
    Status set_files(std::string const& id, std::vector<FileChange> const& changes) override;
    Result<std::vector<PeerConnection>> peers(std::string const& id) override;
    Status add_peers(std::string const& id, std::vector<std::string> const& endpoints) override;
    Result<std::vector<TrackerView>> trackers(std::string const& id) override;
    Status set_trackers(std::string const& id, TrackerEdit const& edit) override;
    Status set(std::vector<std::string> const& ids, TorrentSettings const& settings) override;
    Result<std::string> rename_path(std::string const& id, std::string const& path,
                                    std::string const& name) override;

    // Hashes every file: slow (seconds to minutes); call from the slow pool, not an RPC worker.
    Result<CreateResult> create(CreateRequest const& req) override;

    // Any thread (SIGHUP's reload runs on an RPC worker). Replaces the label policies
    // (move_on_complete, default share limits) and hooks used from now on.
    void set_policies(std::map<std::string, config::LabelPolicy> labels, config::HooksConfig hooks);

    [[nodiscard]] std::vector<LabelInfo> labels() override;
    Status set_label(std::string const& name, config::LabelPolicy const& policy) override;
    Status remove_label(std::string const& name) override;
    [[nodiscard]] BlocklistInfo blocklist() override;
    Result<BlocklistInfo> reload_blocklist() override;
    Result<BlocklistInfo> store_blocklist(std::string const& data) override;
    Result<std::vector<std::string>> ban(std::vector<std::string> const& add,
                                         std::vector<std::string> const& remove) override;
    [[nodiscard]] std::vector<std::string> bans() override;

    [[nodiscard]] SessionStats session_stats() override;
    [[nodiscard]] SessionSettings session_settings() override;
    Status set_session_settings(SessionSettings const& changes) override;

    // The keys session.settings has: type, help, and for integers their range, for strings with
    // fixed values those values. Made from the config key table (the keys it marks
    // config::Apply::session, without "bt.") and listen_port.
    struct SettingKey {
        std::string name;
        std::string type; // boolean | integer | string
        std::string help;
        std::int64_t min = 0, max = 0;
        std::vector<std::string> choices{};
    };
    static std::vector<SettingKey> const& session_setting_keys();

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

[[nodiscard]] std::string libtorrent_version();

} // namespace seedbox::daemon
