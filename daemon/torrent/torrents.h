// What the RPC layer asks of the torrent engine, as an interface: rpc::Context holds a Torrents&,
// so handlers are tested against a fake (tests/unit/rpc_test.cpp) and the engine (engine.h) is
// the one real implementation. Thread-safe; may block briefly: call from RPC workers, never from
// the io thread.
#pragma once

#include "daemon/base/errors.h"
#include "daemon/base/payment_figures.h"

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace seedbox::daemon {

// A torrent's state as torrent.list and torrent.get report it; the names are part of the API.
enum class TorrentState {
    stopped,
    queued,
    checking_resume,
    checking,
    downloading_metadata,
    downloading,
    finished,
    seeding,
    moving,
    error,
    unknown, // a libtorrent state this build does not know; never expected
};
[[nodiscard]] char const* name(TorrentState s);
// Every state name but "unknown", in the order above: the one list the field help, the README
// and /metrics come from.
[[nodiscard]] std::vector<std::string> const& torrent_states();

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
    std::optional<PaymentFigures> payments; // with btt_pay
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

class Torrents {
public:
    virtual ~Torrents() = default;

    virtual Result<AddResult> add(AddRequest const& req) = 0;
    virtual Status remove(std::vector<std::string> const& ids, bool delete_data) = 0;
    virtual Status start_torrents(std::vector<std::string> const& ids) = 0;
    virtual Status stop_torrents(std::vector<std::string> const& ids) = 0;
    virtual Status recheck(std::vector<std::string> const& ids) = 0;
    virtual Status reannounce(std::vector<std::string> const& ids) = 0;
    virtual Status move(std::string const& id, std::string const& path) = 0;

    // `ids` empty = all torrents. Unknown fields are an error naming the field.
    virtual Result<nlohmann::json> list(std::vector<std::string> const& fields,
                                        std::vector<std::string> const& ids,
                                        std::optional<std::string> const& label) = 0;
    virtual Result<nlohmann::json> get(std::string const& id,
                                       std::vector<std::string> const& fields) = 0;

    virtual Result<nlohmann::json> files(std::string const& id) = 0;
    virtual Status set_files(std::string const& id, nlohmann::json const& changes) = 0;
    virtual Result<nlohmann::json> peers(std::string const& id) = 0;
    virtual Status add_peers(std::string const& id, std::vector<std::string> const& endpoints) = 0;
    virtual Result<nlohmann::json> trackers(std::string const& id) = 0;
    virtual Status set_trackers(std::string const& id, nlohmann::json const& params) = 0;
    // Applies per-torrent settings (see torrent.set); validates everything before changing
    // anything.
    virtual Status set(std::vector<std::string> const& ids, nlohmann::json const& settings) = 0;

    // Hashes every file: slow (seconds to minutes); call from the slow pool, not an RPC worker.
    virtual Result<CreateResult> create(CreateRequest const& req) = 0;

    [[nodiscard]] virtual SessionStats session_stats() = 0;
    [[nodiscard]] virtual nlohmann::json session_settings() = 0;
    virtual Status set_session_settings(nlohmann::json const& changes) = 0;
};

} // namespace seedbox::daemon
