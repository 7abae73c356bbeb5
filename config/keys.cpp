// The config key table: every key's name, field, help, checks and when it applies, and the small
// check builders its rows use.
#include "config/settings.h"

#include "config/keys_internal.h"
#include "config/password_hash.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace seedbox::config::detail {
namespace {

// A key applied again on SIGHUP.
Key reloads(Key k)
{
    k.apply = Apply::reload;
    return k;
}

// A BitTorrent session setting: on SIGHUP and over session.set_settings (as the name without
// "bt."). daemon/torrent/session_settings.cpp says where each lives in libtorrent.
Key session(Key k)
{
    k.apply = Apply::session;
    return k;
}

Check range(std::int64_t lo, std::int64_t hi)
{
    Check c([lo, hi](Field const& f) -> std::string {
        auto v = *std::get<std::int64_t*>(f);
        if (v < lo || v > hi)
            return "must be between " + std::to_string(lo) + " and " + std::to_string(hi);
        return {};
    });
    c.min = lo;
    c.max = hi;
    return c;
}

// A number (double) between lo and hi; the bounds print as integers.
Check number_range(std::int64_t lo, std::int64_t hi)
{
    Check c([lo, hi](Field const& f) -> std::string {
        auto v = *std::get<double*>(f);
        if (!(v >= static_cast<double>(lo) && v <= static_cast<double>(hi)))
            return "must be between " + std::to_string(lo) + " and " + std::to_string(hi);
        return {};
    });
    c.min = lo;
    c.max = hi;
    return c;
}

// "" or an http(s) URL of at most 2048 bytes (fully checked when it is fetched).
std::string check_url_or_empty(Field const& f)
{
    auto const& v = *std::get<std::string*>(f);
    if (v.empty())
        return {};
    if (v.size() > 2048 || !(v.rfind("http://", 0) == 0 || v.rfind("https://", 0) == 0))
        return "must be \"\" or an http:// or https:// URL (at most 2048 bytes)";
    return {};
}

Check one_of(std::vector<std::string> allowed)
{
    Check c([allowed](Field const& f) -> std::string {
        auto const& v = *std::get<std::string*>(f);
        if (std::find(allowed.begin(), allowed.end(), v) != allowed.end())
            return {};
        std::string msg = "must be one of";
        for (auto const& a : allowed)
            msg += " \"" + a + "\"";
        return msg;
    });
    c.choices = std::move(allowed);
    return c;
}

std::string check_endpoint(Field const& f)
{
    return parse_endpoint(*std::get<std::string*>(f)) ? ""
                                                      : "must be HOST:PORT, e.g. 127.0.0.1:9180";
}

std::string check_amount(Field const& f)
{
    auto const& v = *std::get<std::string*>(f);
    bool digits = !v.empty() && v.size() <= 78 && (v.size() == 1 || v.front() != '0') &&
                  std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; });
    return digits ? "" : "must be a whole number of BTT base units as a decimal string";
}

std::string check_nonempty(Field const& f)
{
    return std::get<std::string*>(f)->empty() ? "must not be empty" : "";
}

} // namespace

// One row per key, in --help-config order. Long because it is a table: one entry per key.
std::vector<Key> const& table()
{
    static std::vector<Key> const t = {
        {"state_dir", [](Config& c) -> Field { return &c.state_dir; },
         "directory for state.db, rpc.token and other state", check_nonempty},
        reloads({"log_level", [](Config& c) -> Field { return &c.log_level; },
                 "trace, debug, info, warn, error or off",
                 one_of({"trace", "debug", "info", "warn", "error", "off"})}),
        {"rpc.bind", [](Config& c) -> Field { return &c.rpc.bind; },
         "HOST:PORT for the JSON-RPC/WebSocket listener (port 0 = any free port)", check_endpoint},
        {"rpc.token", [](Config& c) -> Field { return &c.rpc.token; },
         "bearer token; empty = read or generate rpc.token_file", nullptr, true},
        {"rpc.token_file", [](Config& c) -> Field { return &c.rpc.token_file; },
         "token file (0600), default <state_dir>/rpc.token", nullptr},
        {"rpc.allowed_hosts", [](Config& c) -> Field { return &c.rpc.allowed_hosts; },
         "extra Host header names accepted (loopback names and the bind address always are)",
         nullptr},
        {"rpc.allowed_origins", [](Config& c) -> Field { return &c.rpc.allowed_origins; },
         "browser Origins allowed to use the API (none by default)", nullptr},
        {"rpc.max_body_bytes", [](Config& c) -> Field { return &c.rpc.max_body_bytes; },
         "largest request body or WebSocket message", range(1024, 1LL << 30)},
        {"rpc.max_header_bytes", [](Config& c) -> Field { return &c.rpc.max_header_bytes; },
         "largest request header block, chunk extensions and trailers together (Beast holds no "
         "field over 65535 bytes)",
         range(512, 65535)},
        {"rpc.max_json_depth", [](Config& c) -> Field { return &c.rpc.max_json_depth; },
         "deepest JSON nesting accepted", range(2, 1000)},
        {"rpc.max_batch", [](Config& c) -> Field { return &c.rpc.max_batch; },
         "most calls in one JSON-RPC batch", range(1, 100000)},
        {"rpc.max_connections", [](Config& c) -> Field { return &c.rpc.max_connections; },
         "concurrent HTTP/WebSocket connections", range(1, 100000)},
        {"rpc.idle_timeout", [](Config& c) -> Field { return &c.rpc.idle_timeout; },
         "seconds before an idle signed-in HTTP connection is closed", range(1, 86400)},
        {"rpc.auth_timeout", [](Config& c) -> Field { return &c.rpc.auth_timeout; },
         "seconds a new connection has to send its first request (HTTP) or call auth.login "
         "(WebSocket)",
         range(1, 300)},
        {"rpc.max_unauthenticated", [](Config& c) -> Field { return &c.rpc.max_unauthenticated; },
         "connections not signed in yet; at the cap the oldest of them is closed",
         range(1, 100000)},
        {"rpc.max_unauthenticated_per_address",
         [](Config& c) -> Field { return &c.rpc.max_unauthenticated_per_address; },
         "connections not signed in yet from one address (IPv6: one /64)", range(1, 100000)},
        {"rpc.ws_idle_timeout", [](Config& c) -> Field { return &c.rpc.ws_idle_timeout; },
         "seconds of silence before a signed-in WebSocket is closed (our pings keep a live "
         "client)",
         range(5, 86400)},
        {"rpc.ws_max_queue", [](Config& c) -> Field { return &c.rpc.ws_max_queue; },
         "queued outgoing messages before a slow WebSocket client is dropped", range(16, 1000000)},
        {"rpc.ws_max_queue_bytes", [](Config& c) -> Field { return &c.rpc.ws_max_queue_bytes; },
         "queued outgoing bytes before a slow WebSocket client is dropped",
         range(64 * 1024, 1LL << 30)},
        {"rpc.slow_workers", [](Config& c) -> Field { return &c.rpc.slow_workers; },
         "threads for slow calls (file reads, torrent.create, wallet and settlement calls that "
         "wait for the chain), apart from rpc.workers",
         range(1, 64)},
        {"rpc.auth_failures", [](Config& c) -> Field { return &c.rpc.auth_failures; },
         "wrong tokens in a minute from one address before it gets 429 for a while (10 s, "
         "doubling up to 15 min)",
         range(1, 100000)},
        {"rpc.generate_token", [](Config& c) -> Field { return &c.rpc.generate_token; },
         "create rpc.token_file on first start even for a non-loopback bind (containers)", nullptr},
        {"rpc.metrics_public", [](Config& c) -> Field { return &c.rpc.metrics_public; },
         "serve GET /metrics without the bearer token (Host is still checked)", nullptr},
        {"rpc.workers", [](Config& c) -> Field { return &c.rpc.workers; },
         "threads that run RPC handlers", range(1, 64)},
        session({"bt.listen_interfaces", [](Config& c) -> Field { return &c.bt.listen_interfaces; },
                 "BitTorrent listen addresses, libtorrent syntax (ADDR:PORT,...)", check_nonempty}),
        session(
            {"bt.dht", [](Config& c) -> Field { return &c.bt.dht; }, "enable the DHT", nullptr}),
        session({"bt.lsd", [](Config& c) -> Field { return &c.bt.lsd; },
                 "enable local service discovery", nullptr}),
        session({"bt.upnp", [](Config& c) -> Field { return &c.bt.upnp; },
                 "enable UPnP port mapping", nullptr}),
        session({"bt.natpmp", [](Config& c) -> Field { return &c.bt.natpmp; },
                 "enable NAT-PMP port mapping", nullptr}),
        session({"bt.pex", [](Config& c) -> Field { return &c.bt.pex; },
                 "enable peer exchange (applies to every torrent)", nullptr}),
        session({"bt.encryption", [](Config& c) -> Field { return &c.bt.encryption; },
                 "peer protocol encryption", one_of({"enabled", "forced", "disabled"})}),
        session({"bt.download_rate_limit",
                 [](Config& c) -> Field { return &c.bt.download_rate_limit; },
                 "global download limit, bytes/s (0 = unlimited)", range(0, INT32_MAX)}),
        session({"bt.upload_rate_limit", [](Config& c) -> Field { return &c.bt.upload_rate_limit; },
                 "global upload limit, bytes/s (0 = unlimited)", range(0, INT32_MAX)}),
        session({"bt.connections_limit", [](Config& c) -> Field { return &c.bt.connections_limit; },
                 "global peer connection limit", range(2, 1000000)}),
        session({"bt.active_downloads", [](Config& c) -> Field { return &c.bt.active_downloads; },
                 "queued torrents downloading at once (-1 = unlimited)", range(-1, 1000000)}),
        session({"bt.active_seeds", [](Config& c) -> Field { return &c.bt.active_seeds; },
                 "queued torrents seeding at once (-1 = unlimited)", range(-1, 1000000)}),
        session({"bt.active_limit", [](Config& c) -> Field { return &c.bt.active_limit; },
                 "queued torrents active at once (-1 = unlimited)", range(-1, 1000000)}),
        session({"bt.alt_download_rate_limit",
                 [](Config& c) -> Field { return &c.bt.alt_download_rate_limit; },
                 "alternative download limit while alt_speed is on, bytes/s (0 = unlimited)",
                 range(0, INT32_MAX)}),
        session({"bt.alt_upload_rate_limit",
                 [](Config& c) -> Field { return &c.bt.alt_upload_rate_limit; },
                 "alternative upload limit while alt_speed is on, bytes/s (0 = unlimited)",
                 range(0, INT32_MAX)}),
        session({"bt.alt_speed", [](Config& c) -> Field { return &c.bt.alt_speed; },
                 "use the alternative speed limits now", nullptr}),
        session({"bt.alt_speed_schedule",
                 [](Config& c) -> Field { return &c.bt.alt_speed_schedule; },
                 "turn alt_speed on at alt_speed_begin and off at alt_speed_end", nullptr}),
        session({"bt.alt_speed_begin", [](Config& c) -> Field { return &c.bt.alt_speed_begin; },
                 "schedule start, minutes after local midnight", range(0, 1439)}),
        session({"bt.alt_speed_end", [](Config& c) -> Field { return &c.bt.alt_speed_end; },
                 "schedule end, minutes after local midnight (before begin: the next day)",
                 range(0, 1439)}),
        session({"bt.alt_speed_days", [](Config& c) -> Field { return &c.bt.alt_speed_days; },
                 "schedule days: bit 0 Sunday .. bit 6 Saturday (127 every day, 62 weekdays)",
                 range(1, 127)}),
        session({"bt.ratio_limit", [](Config& c) -> Field { return &c.bt.ratio_limit; },
                 "default share ratio limit (-1 = none)", number_range(-1, 1000000)}),
        session({"bt.seed_time_limit", [](Config& c) -> Field { return &c.bt.seed_time_limit; },
                 "default seeding time limit, seconds (-1 = none)", range(-1, 1LL << 40)}),
        session({"bt.idle_limit", [](Config& c) -> Field { return &c.bt.idle_limit; },
                 "default limit on seconds seeding without uploading (-1 = none)",
                 range(-1, 1LL << 40)}),
        session({"bt.limit_action", [](Config& c) -> Field { return &c.bt.limit_action; },
                 "what a torrent at its share limit does", one_of(limit_actions())}),
        session({"bt.blocklist", [](Config& c) -> Field { return &c.bt.blocklist; },
                 "block peers on the lists in <state_dir>/blocklists (P2P, DAT, CIDR; .gz too)",
                 nullptr}),
        session({"bt.blocklist_url", [](Config& c) -> Field { return &c.bt.blocklist_url; },
                 "http(s) URL blocklist.update fetches into the blocklists folder (\"\" none)",
                 check_url_or_empty}),
        {"bt.disk_io", [](Config& c) -> Field { return &c.bt.disk_io; },
         "disk I/O back end, read at start: posix (pread/pwrite through libtorrent's own buffers) "
         "or mmap (memory-mapped files)",
         one_of({"posix", "mmap"})},
        session({"bt.disk_threads", [](Config& c) -> Field { return &c.bt.disk_threads; },
                 "threads reading and writing torrent data (libtorrent's aio_threads)",
                 range(1, 64)}),
        session({"bt.send_buffer_watermark",
                 [](Config& c) -> Field { return &c.bt.send_buffer_watermark; },
                 "bytes queued for a peer before more is read from disk (higher: fewer, larger "
                 "reads for fast peers; more memory per peer)",
                 range(256 * 1024, 64 * 1024 * 1024)}),
        {"bt.file_pool_size", [](Config& c) -> Field { return &c.bt.file_pool_size; },
         "files kept open (raise LimitNOFILE to match)", range(16, 1000000)},
        {"bt.alert_queue_size", [](Config& c) -> Field { return &c.bt.alert_queue_size; },
         "libtorrent alert queue; large so bursts are not dropped", range(1000, 10000000)},
        {"bt.local_peers_unthrottled",
         [](Config& c) -> Field { return &c.bt.local_peers_unthrottled; },
         "exempt loopback/LAN peers from rate limits (libtorrent's local class)", nullptr},
        {"bt.user_agent", [](Config& c) -> Field { return &c.bt.user_agent; },
         "user agent sent to trackers and peers", nullptr},
        {"torrent.default_save_path",
         [](Config& c) -> Field { return &c.torrent.default_save_path; },
         "where new torrents go, default <state_dir>/downloads; relative paths in API calls and "
         "labels are taken from here",
         nullptr},
        {"torrent.allowed_roots", [](Config& c) -> Field { return &c.torrent.allowed_roots; },
         "directories RPC paths must stay under (default: [default_save_path])", nullptr},
        {"torrent.max_metainfo_bytes",
         [](Config& c) -> Field { return &c.torrent.max_metainfo_bytes; },
         "largest .torrent accepted", range(1024, 1LL << 30)},
        {"torrent.url_add", [](Config& c) -> Field { return &c.torrent.url_add; },
         "allow torrent.add from http(s) URLs", nullptr},
        {"torrent.url_timeout", [](Config& c) -> Field { return &c.torrent.url_timeout; },
         "seconds to fetch a .torrent URL, redirects included", range(1, 3600)},
        {"torrent.url_allow_private",
         [](Config& c) -> Field { return &c.torrent.url_allow_private; },
         "let torrent.add {url} fetch from loopback, private, link-local and other non-public "
         "addresses",
         nullptr},
        {"state.resume_save_interval",
         [](Config& c) -> Field { return &c.state.resume_save_interval; },
         "seconds between resume-data saves of changed torrents", range(1, 86400)},
        {"tron.key_file", [](Config& c) -> Field { return &c.tron.key_file; },
         "the node's secp256k1 key (0600), default <state_dir>/tron.key", nullptr},
        {"tron.generate_key", [](Config& c) -> Field { return &c.tron.generate_key; },
         "create tron.key_file on first start when it is missing", nullptr},
        {"ledger.flush_interval", [](Config& c) -> Field { return &c.ledger.flush_interval; },
         "seconds between ledger.db flushes of per-peer byte counts", range(1, 3600)},
        {"ledger.accounting", [](Config& c) -> Field { return &c.ledger.accounting; },
         "count per-peer bytes with the btt_pay plugin; off also turns payments off", nullptr},
        {"payments.price_per_gib", [](Config& c) -> Field { return &c.payments.price_per_gib; },
         "what we charge, in BTT base units (18 decimals) per GiB uploaded", check_amount},
        {"payments.chain_id", [](Config& c) -> Field { return &c.payments.chain_id; },
         "TIP-712 chain id peers must share (728126428 = TRON mainnet)", range(0, 0xffffffffLL)},
        {"payments.hub", [](Config& c) -> Field { return &c.payments.hub; },
         "claim-hub contract address (Base58 or 41-hex) peers must share", nullptr},
        {"payments.accept", [](Config& c) -> Field { return &c.payments.accept; },
         "accept payment vouchers from peers we upload to", nullptr},
        {"payments.credit_line", [](Config& c) -> Field { return &c.payments.credit_line; },
         "base units a paying peer may owe before it loses upload priority", check_amount},
        {"payments.require", [](Config& c) -> Field { return &c.payments.require; },
         "choke every peer whose unpaid balance exceeds payments.credit_line", nullptr},
        {"payments.credit_window", [](Config& c) -> Field { return &c.payments.credit_window; },
         "seconds an anonymous peer's unpaid uploads count against its credit line, per torrent "
         "and IP across connections, from its first byte",
         range(60, 30 * 86400)},
        {"payments.pay", [](Config& c) -> Field { return &c.payments.pay; },
         "pay peers we download from with signed vouchers", nullptr},
        {"payments.max_price_per_gib",
         [](Config& c) -> Field { return &c.payments.max_price_per_gib; },
         "the most we pay per GiB downloaded, in base units", check_amount},
        {"payments.bid_per_gib", [](Config& c) -> Field { return &c.payments.bid_per_gib; },
         "our bid per GiB downloaded (0 = pay each provider its price); at most "
         "payments.max_price_per_gib, higher bids buy upload priority",
         check_amount},
        {"payments.budget", [](Config& c) -> Field { return &c.payments.budget; },
         "total base units we may ever pay across all peers", check_amount},
        {"tron.node_url", [](Config& c) -> Field { return &c.tron.node_url; },
         "TRON full-node HTTP API (http or https) for settlement.mode=broadcast", nullptr},
        {"tron.solidity_url", [](Config& c) -> Field { return &c.tron.solidity_url; },
         "TRON solidity-node HTTP API; empty = tron.node_url", nullptr},
        {"tron.api_key_file", [](Config& c) -> Field { return &c.tron.api_key_file; },
         "file holding a TRON-PRO-API-KEY sent to the node; empty = none", nullptr},
        {"tron.token", [](Config& c) -> Field { return &c.tron.token; },
         "the TRC-20 token the hub pays in (BTT)", check_nonempty},
        {"settlement.mode", [](Config& c) -> Field { return &c.settlement.mode; },
         "offline (build and sign batches only) or broadcast (send them to tron.node_url)",
         [](Field const& f) -> std::string {
             auto const& v = *std::get<std::string*>(f);
             return v == "offline" || v == "broadcast" ? "" : "must be offline or broadcast";
         }},
        {"settlement.interval", [](Config& c) -> Field { return &c.settlement.interval; },
         "seconds between automatic settlement runs", range(10, 30 * 86400)},
        {"settlement.min_batch_amount",
         [](Config& c) -> Field { return &c.settlement.min_batch_amount; },
         "claimable base units needed before an automatic run builds a batch", check_amount},
        {"settlement.max_claims", [](Config& c) -> Field { return &c.settlement.max_claims; },
         "vouchers per claimBatch transaction", range(1, 500)},
        {"settlement.fee_limit_max", [](Config& c) -> Field { return &c.settlement.fee_limit_max; },
         "the most TRX (in sun) one batch may burn for energy", range(0, 15'000'000'000LL)},
        {"settlement.fee_margin_percent",
         [](Config& c) -> Field { return &c.settlement.fee_margin_percent; },
         "fee_limit = energy estimate x energy price x this / 100", range(100, 1000)},
        {"settlement.expiration", [](Config& c) -> Field { return &c.settlement.expiration; },
         "seconds a batch stays valid after its reference block", range(10, 86000)},
        {"state.shutdown_timeout", [](Config& c) -> Field { return &c.state.shutdown_timeout; },
         "seconds to wait for resume data at shutdown", range(1, 3600)},
        reloads({"watch.dir", [](Config& c) -> Field { return &c.watch.dir; },
                 "add .torrent/.magnet files dropped here (a subfolder name becomes the label), "
                 "then move "
                 "them to .added/ (or .invalid/); empty = off",
                 [](Field const& f) -> std::string {
                     auto const& v = *std::get<std::string*>(f);
                     return v.empty() || v.front() == '/' ? "" : "must be an absolute path";
                 }}),
        reloads({"watch.interval", [](Config& c) -> Field { return &c.watch.interval; },
                 "seconds between scans of watch.dir (a file is added once it stopped changing)",
                 range(1, 3600)}),
        reloads({"hooks.on_complete", [](Config& c) -> Field { return &c.hooks.on_complete; },
                 "argv run without a shell when a torrent finishes downloading (after "
                 "move_on_complete); "
                 "SEEDBOX_TORRENT_ID/NAME, SEEDBOX_SAVE_PATH, SEEDBOX_LABELS in its environment; "
                 "config "
                 "file only",
                 [](Field const& f) -> std::string {
                     auto const& v = *std::get<std::vector<std::string>*>(f);
                     return v.empty() || v.front().rfind('/', 0) == 0
                                ? ""
                                : "the program (first element) must be an absolute path";
                 },
                 false, true}),
        reloads({"hooks.timeout", [](Config& c) -> Field { return &c.hooks.timeout; },
                 "seconds before a running hook is killed", range(1, 86400)}),
        {"transmission.enabled", [](Config& c) -> Field { return &c.transmission.enabled; },
         "serve Transmission's RPC at /transmission/rpc (HTTP Basic auth, the RPC token as "
         "password)",
         nullptr},
        {"transmission.user", [](Config& c) -> Field { return &c.transmission.user; },
         "the user name Transmission clients must send; empty = any", nullptr},
        {"transmission.password", [](Config& c) -> Field { return &c.transmission.password; },
         "the scrypt hash (from `seedboxd --hash-password`) of a password Transmission clients "
         "may send instead of the RPC token; empty = the token only",
         [](Field const& f) -> std::string {
             auto const& v = *std::get<std::string*>(f);
             std::string err;
             return v.empty() || parse_password_hash(v, err) ? "" : err;
         },
         true},
        {"web.root", [](Config& c) -> Field { return &c.web.root; },
         "folder of Transmission's web client, served read-only at /transmission/web/ (same "
         "login as transmission.user), e.g. /usr/share/transmission/web; empty = off",
         [](Field const& f) -> std::string {
             auto const& v = *std::get<std::string*>(f);
             return v.empty() || v.front() == '/' ? "" : "must be an absolute path";
         }},
    };
    return t;
}

Key const* find_key(std::string_view name)
{
    for (auto const& k : table())
        if (k.name == name)
            return &k;
    return nullptr;
}

} // namespace seedbox::config::detail
