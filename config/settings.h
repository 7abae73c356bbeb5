// The daemon's configuration: one key table (table() in config/keys.cpp) drives the JSON config
// file, SEEDBOXD_* environment variables, --set flags, validation, defaults, help and
// --print-config. Pure code: no threads, no I/O except reading the config file named by the caller.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace seedbox::config {

struct RpcConfig {
    std::string bind = "127.0.0.1:9180";
    std::string token;      // secret; empty = use token_file (generated on first start)
    std::string token_file; // empty = <state_dir>/rpc.token
    std::vector<std::string> allowed_hosts;   // extra Host header names; loopback + bind always ok
    std::vector<std::string> allowed_origins; // Origin values allowed on WebSocket and POST
    std::int64_t max_body_bytes = 16 * 1024 * 1024;
    std::int64_t max_header_bytes = 8 * 1024; // header block, chunk extensions and trailers

    std::int64_t max_json_depth = 32;
    std::int64_t max_batch = 100;
    std::int64_t max_connections = 64;
    std::int64_t idle_timeout = 60; // seconds
    std::int64_t auth_timeout = 5;  // seconds a new connection has to sign in
    std::int64_t max_unauthenticated = 16;
    std::int64_t max_unauthenticated_per_address = 8;
    std::int64_t ws_idle_timeout = 120; // seconds; pings keep a live client
    std::int64_t ws_max_queue = 1024;
    std::int64_t ws_max_queue_bytes = 16 * 1024 * 1024;
    std::int64_t workers = 2;
    std::int64_t slow_workers = 4;   // threads for slow calls (file reads, hashing, chain waits)
    std::int64_t auth_failures = 10; // wrong tokens a minute from one address before a brake
    bool metrics_public = false;     // GET /metrics without the token
    // Generate token_file on first start even when binding a non-loopback address. Off: a public
    // bind needs a token the operator chose (or a token file that already exists).
    bool generate_token = false;
};

struct BtConfig {
    std::string listen_interfaces = "0.0.0.0:51413,[::]:51413";
    bool dht = false;
    bool lsd = false;
    bool upnp = false;
    bool natpmp = false;
    bool pex = true;
    std::string encryption = "enabled";   // enabled | forced | disabled
    std::int64_t download_rate_limit = 0; // bytes/s, 0 = unlimited
    std::int64_t upload_rate_limit = 0;
    std::int64_t connections_limit = 500;
    std::int64_t active_downloads = 8;
    std::int64_t active_seeds = -1; // -1 = unlimited
    std::int64_t active_limit = -1;
    std::int64_t file_pool_size = 2000;
    // Disk I/O: libtorrent's back end (read at start), its threads and how much a peer's send
    // buffer may hold before the disk is asked for more (bench/seeding_bench.py measures them).
    std::string disk_io =
        "posix"; // posix | mmap (bench/seeding_bench.py: posix costs far less CPU)
    std::int64_t disk_threads = 8;                        // libtorrent's aio_threads
    std::int64_t send_buffer_watermark = 3 * 1024 * 1024; // bytes
    std::int64_t alert_queue_size = 50000;
    bool local_peers_unthrottled = true; // libtorrent's "local" peer class for LAN/loopback
    std::string user_agent = "seedboxd";
    // Alternative ("turtle") speed limits, in force instead of the two above while alt_speed is
    // on; the schedule turns alt_speed on at alt_speed_begin and off at alt_speed_end (minutes
    // after local midnight) on the days in alt_speed_days (bit 0 Sunday .. bit 6 Saturday), as
    // Transmission's alt-speed-time-*. Switching by hand in between holds until the next edge.
    std::int64_t alt_download_rate_limit = 0; // bytes/s, 0 = unlimited
    std::int64_t alt_upload_rate_limit = 0;
    bool alt_speed = false;
    bool alt_speed_schedule = false;
    std::int64_t alt_speed_begin = 540; // 09:00
    std::int64_t alt_speed_end = 1020;  // 17:00
    std::int64_t alt_speed_days = 127;  // every day
    // Default share limits for torrents that set none themselves and carry no label that does.
    double ratio_limit = -1;           // uploaded / downloaded; -1 = none
    std::int64_t seed_time_limit = -1; // seconds seeding; -1 = none
    std::int64_t idle_limit = -1;      // seconds seeding without uploading; -1 = none
    std::string limit_action = "stop"; // stop | remove | remove_data
    // The IP blocklist: every list in <state_dir>/blocklists while on; blocklist.update fetches
    // blocklist_url into it (same URL rules as torrent.add).
    bool blocklist = false;
    std::string blocklist_url;
};

struct TorrentConfig {
    std::string default_save_path;          // empty = <state_dir>/downloads
    std::vector<std::string> allowed_roots; // empty = [default_save_path]
    std::int64_t max_metainfo_bytes = 10 * 1024 * 1024;
    bool url_add = true;
    std::int64_t url_timeout = 30;  // seconds, the whole fetch (redirects included)
    bool url_allow_private = false; // fetch from loopback/private/link-local addresses too
};

struct TronConfig {
    std::string key_file;      // empty = <state_dir>/tron.key
    bool generate_key = false; // create key_file on first start when it is missing
    std::string node_url;      // full node HTTP API, e.g. https://api.trongrid.io (broadcast mode)
    std::string solidity_url;  // solidity endpoints; empty = node_url
    std::string api_key_file;  // TRON-PRO-API-KEY, read from this file; empty = none
    std::string token = "TAFjULxiVgT4qWk6UZwjqwZXTSaGaqnVp4"; // BTT (TRC-20, 18 decimals)
};

struct SettlementConfig {
    std::string mode = "offline"; // offline: build, sign, store; broadcast: also send and confirm
    std::int64_t interval = 3600; // seconds between automatic runs
    std::string min_batch_amount = "1000000000000000000"; // claimable needed for an automatic run
    std::int64_t max_claims = 100;                        // vouchers per batch
    std::int64_t fee_limit_max = 1'000'000'000;           // sun (1000 TRX)
    std::int64_t fee_margin_percent = 150;                // fee_limit = estimate x margin
    std::int64_t expiration = 120;                        // seconds after the reference block
};

struct LedgerConfig {
    std::int64_t flush_interval = 5; // seconds
    bool accounting = true;          // the btt_pay plugin counts per-peer bytes (and payments)
};

struct PaymentsConfig {
    std::string price_per_gib = "1000000000000000000"; // BTT base units per GiB uploaded (1 BTT)
    std::int64_t chain_id = 728126428;                 // TIP-712 chain id: TRON mainnet
    std::string hub; // claim-hub contract address; empty = none yet
    // Provider side: accept vouchers from peers we upload to.
    bool accept = true;
    std::string credit_line = "1000000000000000000"; // unpaid base units before priority is lost
    bool require = false; // choke peers whose unpaid balance exceeds credit_line
    // An anonymous peer's unpaid uploads count per (torrent, IP) for this long from the first byte.
    std::int64_t credit_window = 86400;
    // Payer side: pay peers we download from.
    bool pay = false;
    std::string max_price_per_gib = "1000000000000000000"; // never pay more per GiB than this
    // Our bid per GiB, sent in the btt_pay handshake; "0" = none (pay each provider its price).
    // Never above max_price_per_gib; raised to a provider's price when it refuses and it is within.
    std::string bid_per_gib = "0";
    std::string budget = "0"; // total base units we may ever pay
};

// The values of limit_action: what happens when a torrent reaches its share limit. Labels,
// torrent.set and the RPC's choices all check against this list.
[[nodiscard]] inline std::vector<std::string> const& limit_actions()
{
    static std::vector<std::string> const v = {"stop", "remove", "remove_data"};
    return v;
}

// What a label means when a torrent carries it (config file or SEEDBOXD_LABELS as JSON):
// where its data goes once downloaded, and default share limits for torrents without their own.
struct LabelPolicy {
    std::string save_path;             // where torrents added with it go; "" = the default
    std::string move_on_complete;      // directory inside torrent.allowed_roots; "" = stay
    double ratio_limit = -1;           // -1 = none
    std::int64_t seed_time_limit = -1; // seconds seeding, -1 = none
    std::int64_t idle_limit = -1;      // seconds seeding without uploading, -1 = none
    std::string limit_action = "stop"; // stop | remove | remove_data
};

struct WatchConfig {
    std::string dir;           // .torrent / .magnet files dropped here are added; "" = off
    std::int64_t interval = 5; // seconds between scans
};

// Transmission's RPC at /transmission/rpc, for the clients that speak it (Sonarr, Radarr, Flood,
// transmission-remote). HTTP Basic auth: this user name (any, when empty) and the RPC token, or
// the password whose scrypt hash is `password` (config/password_hash.h).
struct TransmissionConfig {
    bool enabled = true;
    std::string user;
    std::string password; // "$scrypt$..." or "" = the RPC token only
};

// Transmission's web client, served read-only from this folder at /transmission/web/ (same
// credentials as Transmission's RPC); "/" then redirects there. "" = off.
struct WebConfig {
    std::string root; // absolute, e.g. /usr/share/transmission/web
};

struct HooksConfig {
    // argv of a program run (no shell) when a torrent finishes downloading, after any
    // move_on_complete; torrent data comes in SEEDBOX_* environment variables. Config file only.
    std::vector<std::string> on_complete;
    std::int64_t timeout = 600; // seconds before the hook is killed
};

struct StateConfig {
    std::int64_t resume_save_interval = 60; // seconds
    std::int64_t shutdown_timeout = 30;     // seconds
};

struct Config {
    std::string state_dir = "./var";
    std::string log_level = "info";
    RpcConfig rpc;
    BtConfig bt;
    TorrentConfig torrent;
    StateConfig state;
    TronConfig tron;
    LedgerConfig ledger;
    PaymentsConfig payments;
    SettlementConfig settlement;
    WatchConfig watch;
    TransmissionConfig transmission;
    WebConfig web;
    HooksConfig hooks;
    std::map<std::string, LabelPolicy> labels;

    // Keys whose value resolve() derived from another (token_file from state_dir, …): printed by
    // --print-config as "" (or []), so the printed file fed back derives them again.
    std::set<std::string> derived;

    // Makes every configured path absolute against the working directory (the directory the
    // daemon was started in, as for any Unix program) and fills the derived defaults
    // (token_file, key_file, default_save_path, allowed_roots) from state_dir. Idempotent.
    void resolve();
};

// When a changed value takes effect.
enum class Apply {
    restart, // at the next start
    reload,  // also on SIGHUP
    session, // also on SIGHUP and over session.set_settings, named without "bt."
};

struct KeyInfo {
    std::string name;
    std::string type; // "boolean" | "integer" | "string" | "string[]" | "object"
    std::string help;
    nlohmann::json default_value;
    std::optional<std::int64_t> min{}, max{}; // integers: the accepted range
    std::vector<std::string> choices{};       // strings with fixed values
    bool secret = false;
    bool file_only = false; // refused from the environment and --set
    Apply apply = Apply::restart;
};

// Where values come from, lowest precedence first: defaults, file, env, overrides (flags).
struct Sources {
    std::optional<std::string> config_file;
    std::vector<std::pair<std::string, std::string>> env;       // name -> value, SEEDBOXD_* only
    std::vector<std::pair<std::string, std::string>> overrides; // key -> value (from flags)
};

struct LoadResult {
    std::optional<Config> config;
    std::string error; // names the key or the file; empty on success
};

// Reads, merges and validates; unknown keys and bad values give an error that names the key.
[[nodiscard]] LoadResult load(Sources const& sources);

// Parses a JSON config document (comments allowed) onto `cfg`; error names the offending key.
[[nodiscard]] std::string apply_json(Config& cfg, std::string_view text, std::string_view origin);

// Sets one key from its string form (env/flag syntax: booleans, integers, lists as JSON or CSV).
[[nodiscard]] std::string apply_string(Config& cfg, std::string_view key, std::string_view value,
                                       std::string_view origin);

// One label's settings from JSON ({"save_path": ..., "move_on_complete": ..., "ratio_limit": ...,
// "seed_time_limit": ..., "idle_limit": ..., "limit_action": ...}), checked as the config file's
// "labels" entries are; keys it lacks keep their value in `out`. Why not (naming `where` and the
// key), or empty. And a label's name: not empty, at most 128 bytes, no commas or control
// characters (Transmission's label rules).
[[nodiscard]] std::string parse_label(nlohmann::json const& v, LabelPolicy& out,
                                      std::string_view where);
[[nodiscard]] std::string check_label_name(std::string_view name);
[[nodiscard]] nlohmann::json label_json(LabelPolicy const& p);

// Effective configuration in the config file's shape; secrets are redacted.
// With `redact` false, secrets are shown too: only for comparing two configurations.
[[nodiscard]] nlohmann::json to_json(Config const& cfg, bool redact = true);

[[nodiscard]] std::vector<KeyInfo> keys();

// Sets one key from a JSON value, checked exactly as the config file's value would be. Returns
// why the value is not acceptable (without the key's name), and leaves cfg unchanged then.
[[nodiscard]] std::string set_value(Config& cfg, std::string_view key, nlohmann::json const& v);

// "rpc.bind" -> "SEEDBOXD_RPC_BIND"
[[nodiscard]] std::string env_name(std::string_view key);

struct Endpoint {
    std::string host;
    std::uint16_t port = 0;
};
// "127.0.0.1:9180", "[::1]:0", "localhost:80"
[[nodiscard]] std::optional<Endpoint> parse_endpoint(std::string_view text);

} // namespace seedbox::config
