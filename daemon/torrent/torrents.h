// What the RPC layer asks of the torrent engine, as an interface: rpc::Context holds a Torrents&,
// so handlers are tested against a fake (tests/unit/fake_engine.h) and the engine
// (engine.h) is the one real implementation. Thread-safe; may block briefly: call from RPC workers,
// never from the io thread.
#pragma once

#include "config/settings.h"
#include "daemon/base/errors.h"
#include "daemon/base/payment_figures.h"
#include "daemon/base/torrent_state.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace seedbox::daemon {

// Session-wide figures (session.stats, /metrics). Rates are bytes per second over the last
// stats interval; totals count payload bytes since the daemon started.
struct SessionStats {
    std::int64_t download_rate = 0;
    std::int64_t upload_rate = 0;
    std::int64_t downloaded = 0;
    std::int64_t uploaded = 0;
    std::int64_t torrents = 0;
    std::map<std::string, std::int64_t> torrents_by_state; // only states some torrent is in
    std::int64_t peers = 0;
    std::int64_t dht_nodes = 0;
    std::int64_t disk_queued_jobs = 0;
    std::int64_t disk_blocks_read = 0;
    std::int64_t disk_blocks_written = 0;
    std::int64_t alerts_handled = 0;
    std::int64_t alerts_dropped = 0; // alert types that lost alerts to a full queue
    std::int64_t alerts_last_batch = 0;
    std::int64_t alert_queue_size = 0;
    std::int64_t listen_port = 0;
    std::vector<std::string> listening;     // "0.0.0.0:51413", "[::1]:51413"
    std::int64_t uptime = 0;                // seconds
    std::int64_t blocklist_rules = 0;       // address ranges the blocklist blocks (0 when off)
    std::int64_t bans = 0;                  // entries in the ban list
    std::int64_t peers_blocked = 0;         // connections the IP filter refused since start
    std::optional<PaymentFigures> payments; // with btt_pay
};

// The IP filter: the blocklist (every list in its folder, while bt.blocklist is on) and the
// ban list (always).
struct BlocklistInfo {
    bool enabled = false;   // bt.blocklist
    std::string dir;        // where the lists are: <state_dir>/blocklists
    std::int64_t lists = 0; // files read at the last load
    std::int64_t rules = 0; // address ranges from them
    std::int64_t bad_lines = 0;
    std::vector<std::string> problems{}; // "level1.gz: line 7: ...", the first few
    std::int64_t loaded_time = 0;        // unix seconds of the last load, 0 never
    std::int64_t bans = 0;
    std::int64_t peers_blocked = 0; // connections refused since start
};

// Budgets: a list is read up to kBlocklistFileBytes from disk (or the network) and at most
// kBlocklistTextBytes once decompressed; the ban list holds at most kMaxBans entries.
inline constexpr std::size_t kBlocklistFileBytes = 64u << 20;
inline constexpr std::size_t kBlocklistTextBytes = 256u << 20;
inline constexpr std::size_t kMaxBans = 10000;

// A label's policy and where it comes from: "config" (the config file, applied again on SIGHUP)
// or "runtime" (set over the API, kept in state.db; wins over the config file's of that name).
struct LabelInfo {
    std::string name;
    config::LabelPolicy policy;
    std::string source;
    std::int64_t torrents = 0; // torrents carrying it now
};

struct AddRequest {
    std::string metainfo;  // bencoded .torrent bytes (already decoded / fetched / read)
    std::string magnet;    // or a magnet URI
    std::string save_path; // empty = default; confined to allowed roots
    bool paused = false;
    bool seed_mode = false; // trust that the data is complete: no initial check
    std::vector<std::string> labels;
};

struct AddResult {
    std::string id;
    std::string name;
    bool added = false;
};

struct CreateRequest {
    std::string path; // file or folder under an allowed root
    std::int64_t piece_size = 0;
    std::vector<std::string> trackers; // one tier each
    std::vector<std::string> web_seeds;
    std::string comment;
    bool is_private = false;
    std::string version = "v1"; // v1 | hybrid | v2
    bool add = false;
    std::vector<std::string> labels;
};

struct CreateResult {
    std::string metainfo; // bencoded
    std::string id;
    std::string name;
    bool added = false;
    struct Skipped {
        std::string path;
        std::string reason;
    };
    std::vector<Skipped> skipped; // files left out: symlinks leading outside the roots, FIFOs, ...
};

// A torrent as the engine knows it at one moment: every value torrent.get can report. The RPC
// layer's field table (rpc/methods/torrent_fields.cpp) names, types and documents each one.
struct TorrentView {
    std::string id;          // info-hash hex (v1, or v2 for v2-only torrents)
    std::int64_t number = 0; // stable small integer id, >= 1 (Transmission's torrent id)
    std::string name;
    TorrentState state = TorrentState::unknown;
    double progress = 0;              // of the wanted data, 0..1
    std::int64_t total_size = 0;      // bytes in the torrent (0 without metadata)
    std::int64_t size_when_done = 0;  // bytes of the wanted files
    std::int64_t left_until_done = 0; // wanted bytes still missing
    std::int64_t downloaded = 0;      // payload bytes, all time
    std::int64_t uploaded = 0;        // payload bytes, all time
    std::int64_t have_bytes = 0;      // verified bytes on disk
    std::int64_t download_rate = 0;   // payload bytes/s
    std::int64_t upload_rate = 0;     // payload bytes/s
    double ratio = 0;                 // uploaded / max(downloaded, wanted bytes done)
    std::int64_t peers = 0;
    std::int64_t seeds = 0;
    std::int64_t swarm_seeds = -1; // per the tracker, -1 unknown
    std::int64_t swarm_leechers = -1;
    std::int64_t eta = -1; // seconds until done, 0 done, -1 unknown
    std::string save_path;
    std::vector<std::string> labels;
    std::int64_t added_time = 0;     // unix seconds
    std::int64_t completed_time = 0; // unix seconds, 0 not yet
    std::string error;               // empty if none
    bool paused = false;             // stopped or queued
    bool sequential = false;
    std::int64_t upload_limit = 0;   // bytes/s, 0 unlimited
    std::int64_t download_limit = 0; // bytes/s, 0 unlimited
    std::int64_t max_connections = -1;
    // Share limits of its own: -1 = its label's, else the global default (bt.ratio_limit, ...);
    // -2 = none, whatever the label or the default say.
    double ratio_limit = -1;
    std::int64_t seed_time_limit = -1; // seconds seeding
    std::int64_t idle_limit = -1;      // seconds seeding without uploading
    std::string limit_action;          // one of config::limit_actions()
    bool limit_reached = false;        // stopped by a share limit, until started again
    std::int64_t seeding_time = 0;     // seconds
    std::int64_t idle_time = 0;        // seconds seeding since the last upload (0 unless seeding)
    std::int64_t activity_time = 0;    // unix seconds of the last payload sent or received, 0 never
    std::int64_t active_time = 0;      // seconds
    std::int64_t num_pieces = 0;       // 0 without metadata
    std::int64_t num_files = 0;        // files (pad files not counted); 0 without metadata
    std::int64_t pieces_have = 0;
    std::int64_t piece_size = 0; // 0 without metadata
    bool has_metadata = false;
    bool is_private = false; // the metadata's private flag (no DHT, PEX or LSD for it)
    std::string comment;     // the metadata's comment, creator and creation date (unix seconds,
    std::string creator;     // 0 when none): what the metadata says, empty without it
    std::int64_t created_time = 0;
    std::string info_hash_v2; // empty for v1-only torrents
    std::string current_tracker;
    std::int64_t queue_position = -1; // -1 when not queued
    std::string resume;               // none | accepted | rejected
    std::int64_t resume_saved_time = 0;
};

// One file of a torrent (torrent.files); pad files are left out.
struct FileView {
    int index = 0;
    std::string path;
    std::int64_t size = 0;
    std::int64_t downloaded = 0;
    double progress = 0; // 1 for an empty file
    int priority = 4;    // 0 (skip) .. 7
    bool wanted = true;
};

// A change of torrent.set_files: what is absent stays as it is.
struct FileChange {
    std::int64_t index = 0;
    std::optional<int> priority{}; // 0..7
    std::optional<bool> wanted{};
};

// The values of PeerConnection::payment: "none" (payments off) and btt_pay's payment classes.
[[nodiscard]] std::vector<std::string> const& peer_payment_classes();

// One connected peer (torrent.peers).
struct PeerConnection {
    std::string ip;
    int port = 0;
    std::string payment = "none";             // one of peer_payment_classes()
    std::string unpaid = "0";                 // BTT base units, decimal
    std::optional<std::string> bid_per_gib{}; // the accepted bid of a paying peer, decimal
    std::string client;
    double progress = 0;
    std::int64_t download_rate = 0;
    std::int64_t upload_rate = 0;
    std::int64_t downloaded = 0;
    std::int64_t uploaded = 0;
    std::string flags; // d u c C E S I, as in the README
    bool seed = false;
    std::string connection; // tcp | utp
    bool incoming = false;
};

// A tracker's announce status, overall or of one listen socket, with the tracker's message and
// the failures in a row.
struct AnnounceState {
    std::string status; // one of tracker_statuses()
    std::string message;
    int fails = 0;
};

// not_contacted, skipped, error, updating, working: worst to best.
[[nodiscard]] std::vector<std::string> const& tracker_statuses();

// One tracker of a torrent (torrent.trackers).
struct TrackerView {
    std::string url;
    int tier = 0;
    AnnounceState state;
    int seeds = -1, leechers = -1, downloaded = -1; // the best scrape, -1 none
    struct Endpoint {
        std::string local; // the listen socket that announced
        AnnounceState state;
    };
    std::vector<Endpoint> endpoints;
};

// A tracker in a list given to torrent.set_trackers.
struct TrackerSpec {
    std::string url;
    std::optional<int> tier{}; // absent: the next tier
};

// torrent.set_trackers: a new list, or trackers added (after the others) and removed by URL.
struct TrackerEdit {
    std::optional<std::vector<TrackerSpec>> replace{};
    std::vector<TrackerSpec> add{};
    bool add_as_urls = false; // `add` was given as plain URLs: each gets a tier of its own
    std::vector<std::string> remove{};
};

// torrent.set: per-torrent settings; what is absent stays as it is.
struct TorrentSettings {
    std::optional<std::int64_t> upload_limit{};    // bytes/s, 0..INT32_MAX, 0 unlimited
    std::optional<std::int64_t> download_limit{};  // bytes/s, 0..INT32_MAX, 0 unlimited
    std::optional<std::int64_t> max_connections{}; // -1..65535, -1 unlimited
    std::optional<bool> sequential{};
    std::optional<std::vector<std::string>> labels{};
    // Share limits, as TorrentView's: >= 0, -1 the label's or default, -2 none.
    std::optional<double> ratio_limit{};
    std::optional<std::int64_t> seed_time_limit{}; // seconds, -2..2^40
    std::optional<std::int64_t> idle_limit{};      // seconds, -2..2^40
    std::optional<std::string> limit_action{};     // one of config::limit_actions()
};

// A BitTorrent session setting's value, typed as its key (Engine::session_setting_keys()).
using SettingValue = std::variant<bool, std::int64_t, double, std::string>;
// Session settings by their session.settings name ("upload_rate_limit", "dht", ...).
using SessionSettings = std::map<std::string, SettingValue>;

// Where torrent.queue_move (and Transmission's queue-move-*) puts torrents in the download queue.
enum class QueueMove { top, up, down, bottom };

class Torrents {
public:
    virtual ~Torrents() = default;

    virtual Result<AddResult> add(AddRequest const& req) = 0;
    // add() without waiting for state.db: `done` runs once the torrent is committed (or refused),
    // on whichever thread finished it (the state.db writer's, or the caller's for an early
    // refusal). Adds on other threads meanwhile share the commit: a JSON-RPC batch of adds costs
    // a few transactions, not one each. The default runs add() and then `done`.
    using AddDone = std::function<void(Result<AddResult>)>;
    virtual void add_async(AddRequest const& req, AddDone done) { done(add(req)); }
    // While the returned token lives, state.db holds its commits back (a second at most), so the
    // adds made meanwhile (a JSON-RPC batch's) share one transaction. Null: no such grouping.
    [[nodiscard]] virtual std::shared_ptr<void> group_commits() { return nullptr; }
    virtual Status remove(std::vector<std::string> const& ids, bool delete_data) = 0;
    virtual Status start_torrents(std::vector<std::string> const& ids) = 0;
    virtual Status stop_torrents(std::vector<std::string> const& ids) = 0;
    virtual Status recheck(std::vector<std::string> const& ids) = 0;
    virtual Status reannounce(std::vector<std::string> const& ids) = 0;
    virtual Status move(std::string const& id, std::string const& path) = 0;
    virtual Status queue_move(std::vector<std::string> const& ids, QueueMove to) = 0;
    // The numbers (TorrentView::number) of torrents removed in the last minute.
    [[nodiscard]] virtual std::vector<std::int64_t> removed_numbers() = 0;

    // `ids` empty = all torrents (optionally only those with `label`), in the order added.
    virtual Result<std::vector<TorrentView>> list(std::vector<std::string> const& ids,
                                                  std::optional<std::string> const& label) = 0;
    // What list() answers, one torrent at a time and without copying them all: `fn` gets each in
    // turn (a view it must not keep, the next one reuses it) and returns false to stop. It may
    // run under the engine's lock: quick, and never a call back into the engine.
    using ViewSink = std::function<bool(TorrentView const&)>;
    virtual Status each(std::vector<std::string> const& ids,
                        std::optional<std::string> const& label, ViewSink const& fn)
    {
        auto all = list(ids, label);
        if (!all)
            return all.error();
        for (auto const& v : *all)
            if (!fn(v))
                break;
        return Ok{};
    }
    // One torrent, fresh from libtorrent rather than the status cache.
    virtual Result<TorrentView> get(std::string const& id) = 0;

    virtual Result<std::vector<FileView>> files(std::string const& id) = 0;
    virtual Status set_files(std::string const& id, std::vector<FileChange> const& changes) = 0;
    virtual Result<std::vector<PeerConnection>> peers(std::string const& id) = 0;
    virtual Status add_peers(std::string const& id, std::vector<std::string> const& endpoints) = 0;
    virtual Result<std::vector<TrackerView>> trackers(std::string const& id) = 0;
    virtual Status set_trackers(std::string const& id, TrackerEdit const& edit) = 0;
    // Applies per-torrent settings (see torrent.set); checks everything before changing
    // anything.
    virtual Status set(std::vector<std::string> const& ids, TorrentSettings const& settings) = 0;
    // Gives the file or folder `path` (as files() shows paths) the last component `name`, on
    // disk too; returns the new path. Waits for libtorrent's disk thread (bounded).
    virtual Result<std::string> rename_path(std::string const& id, std::string const& path,
                                            std::string const& name) = 0;

    // Hashes every file: slow (seconds to minutes); call from the slow pool, not an RPC worker.
    virtual Result<CreateResult> create(CreateRequest const& req) = 0;

    // Labels with their policies (save path, move on complete, share limits), by name.
    [[nodiscard]] virtual std::vector<LabelInfo> labels() = 0;
    // Creates or replaces a runtime label (checked by config::check_label_name; stored in
    // state.db before it applies), or removes one (a config file's label cannot be removed).
    virtual Status set_label(std::string const& name, config::LabelPolicy const& policy) = 0;
    virtual Status remove_label(std::string const& name) = 0;

    [[nodiscard]] virtual BlocklistInfo blocklist() = 0;
    // Reads every list in the blocklist folder again and applies them. Slow (disk and parsing):
    // call from the slow pool, not an RPC worker.
    virtual Result<BlocklistInfo> reload_blocklist() = 0;
    // Checks that `data` (a list fetched from bt.blocklist_url) parses, stores it in the folder
    // as url.list, then reloads. Slow, as reload_blocklist.
    virtual Result<BlocklistInfo> store_blocklist(std::string const& data) = 0;
    // Adds and removes ban list entries (addresses or CIDR ranges, each checked before any
    // change; at most kMaxBans), stores the list in state.db and applies it at once: connected
    // peers it covers are dropped. Returns the list.
    virtual Result<std::vector<std::string>> ban(std::vector<std::string> const& add,
                                                 std::vector<std::string> const& remove) = 0;
    [[nodiscard]] virtual std::vector<std::string> bans() = 0;

    [[nodiscard]] virtual SessionStats session_stats() = 0;
    [[nodiscard]] virtual SessionSettings session_settings() = 0;
    // Checks every change with the config key table's rules before applying any; persists them.
    virtual Status set_session_settings(SessionSettings const& changes) = 0;
};

} // namespace seedbox::daemon
