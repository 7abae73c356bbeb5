#include "config/settings.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <variant>

namespace seedbox::config {
namespace {

using json = nlohmann::json;
using Field = std::variant<bool*, std::int64_t*, std::string*, std::vector<std::string>*>;
// A key's validation: a function returning why a value is not acceptable (empty when it is), and
// for ranges and fixed choices the declared bounds, which --help-config prints.
struct Check {
    std::function<std::string(Field const&)> fn;
    std::optional<std::int64_t> min, max;
    std::vector<std::string> choices;
    Check() = default;
    Check(std::nullptr_t) {}
    template <class F,
              class = std::enable_if_t<std::is_invocable_r_v<std::string, F, Field const&>>>
    Check(F f) : fn(std::move(f))
    {
    }
    explicit operator bool() const { return static_cast<bool>(fn); }
    std::string operator()(Field const& f) const { return fn(f); }
};

struct Key {
    std::string_view name;
    std::function<Field(Config&)> field;
    std::string_view help;
    Check check;
    bool secret = false;
    bool file_only = false; // program paths: never from the environment or a flag
    Apply apply = Apply::restart;
};

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

std::string type_of(Field const& f)
{
    return std::visit(
        [](auto* p) -> std::string {
            using T = std::remove_pointer_t<decltype(p)>;
            if constexpr (std::is_same_v<T, bool>)
                return "boolean";
            else if constexpr (std::is_same_v<T, std::int64_t>)
                return "integer";
            else if constexpr (std::is_same_v<T, std::string>)
                return "string";
            else
                return "string[]";
        },
        f);
}

// Assigns a JSON value to a field; returns why not on a type mismatch.
std::string assign(Field const& f, json const& v)
{
    return std::visit(
        [&v](auto* p) -> std::string {
            using T = std::remove_pointer_t<decltype(p)>;
            if constexpr (std::is_same_v<T, bool>) {
                if (!v.is_boolean())
                    return "expected true or false";
                *p = v.get<bool>();
            } else if constexpr (std::is_same_v<T, std::int64_t>) {
                if (!v.is_number_integer())
                    return "expected an integer";
                if (v.is_number_unsigned() && v.get<std::uint64_t>() > std::uint64_t(INT64_MAX))
                    return "out of range";
                *p = v.get<std::int64_t>();
            } else if constexpr (std::is_same_v<T, std::string>) {
                if (!v.is_string())
                    return "expected a string";
                *p = v.get<std::string>();
            } else {
                if (!v.is_array() ||
                    !std::all_of(v.begin(), v.end(), [](json const& e) { return e.is_string(); }))
                    return "expected an array of strings";
                *p = v.get<std::vector<std::string>>();
            }
            return {};
        },
        f);
}

json value_of(Field const& f)
{
    return std::visit([](auto* p) { return json(*p); }, f);
}

// Why `v` is not acceptable for `key` (empty when it is, and then cfg holds it).
std::string set_checked(Config& cfg, Key const& key, json const& v)
{
    Config trial = cfg;
    auto field = key.field(trial);
    auto why = assign(field, v);
    if (why.empty() && key.check)
        why = key.check(field);
    if (why.empty())
        cfg = std::move(trial);
    return why;
}

std::string set_key(Config& cfg, Key const& key, json const& v, std::string_view origin)
{
    if (auto why = set_checked(cfg, key, v); !why.empty())
        return std::string(origin) + ": key \"" + std::string(key.name) + "\": " + why;
    return {};
}

// "labels": {"tv": {"move_on_complete": "/srv/tv", "ratio_limit": 2, ...}, ...}
std::string set_labels(Config& cfg, json const& v, std::string_view origin)
{
    auto bad = [&](std::string const& key, std::string const& why) {
        return std::string(origin) + ": key \"" + key + "\": " + why;
    };
    if (!v.is_object())
        return bad("labels", "expected an object of label name -> settings");
    std::map<std::string, LabelPolicy> out;
    for (auto const& [label, s] : v.items()) {
        auto const base = "labels." + label;
        if (label.empty())
            return bad("labels", "a label name must not be empty");
        if (!s.is_object())
            return bad(base, "expected an object");
        LabelPolicy p;
        for (auto const& [k, x] : s.items()) {
            auto const key = base + "." + k;
            if (k == "move_on_complete") {
                if (!x.is_string() || x.get<std::string>().empty() ||
                    x.get<std::string>().front() != '/')
                    return bad(key, "must be an absolute path");
                p.move_on_complete = x.get<std::string>();
            } else if (k == "ratio_limit") {
                if (!x.is_number() || (x.get<double>() < 0 && x.get<double>() != -1))
                    return bad(key, "must be a number >= 0, or -1 for none");
                p.ratio_limit = x.get<double>();
            } else if (k == "seed_time_limit") {
                if (!x.is_number_integer() || x.get<std::int64_t>() < -1)
                    return bad(key, "must be seconds >= 0, or -1 for none");
                p.seed_time_limit = x.get<std::int64_t>();
            } else if (k == "limit_action") {
                auto const& actions = limit_actions();
                if (!x.is_string() || std::find(actions.begin(), actions.end(),
                                                x.get<std::string>()) == actions.end())
                    return bad(key, "must be stop, remove or remove_data");
                p.limit_action = x.get<std::string>();
            } else {
                return std::string(origin) + ": unknown key \"" + key +
                       "\" (a label has move_on_complete, ratio_limit, seed_time_limit, "
                       "limit_action)";
            }
        }
        out[label] = p;
    }
    cfg.labels = std::move(out);
    return {};
}

json labels_json(Config const& cfg)
{
    json out = json::object();
    for (auto const& [label, p] : cfg.labels)
        out[label] = {{"move_on_complete", p.move_on_complete},
                      {"ratio_limit", p.ratio_limit},
                      {"seed_time_limit", p.seed_time_limit},
                      {"limit_action", p.limit_action}};
    return out;
}

std::string walk(Config& cfg, json const& obj, std::string const& prefix, std::string_view origin)
{
    for (auto const& [name, v] : obj.items()) {
        auto full = prefix.empty() ? name : prefix + "." + name;
        if (full == "labels") {
            if (auto err = set_labels(cfg, v, origin); !err.empty())
                return err;
            continue;
        }
        if (v.is_object()) {
            bool is_section = std::any_of(table().begin(), table().end(), [&](Key const& k) {
                return k.name.substr(0, full.size() + 1) == full + ".";
            });
            if (!is_section)
                return std::string(origin) + ": unknown key \"" + full + "\"";
            if (auto err = walk(cfg, v, full, origin); !err.empty())
                return err;
            continue;
        }
        auto const* key = find_key(full);
        if (!key)
            return std::string(origin) + ": unknown key \"" + full + "\"";
        if (auto err = set_key(cfg, *key, v, origin); !err.empty())
            return err;
    }
    return {};
}

} // namespace

std::optional<Endpoint> parse_endpoint(std::string_view text)
{
    Endpoint ep;
    std::string_view port;
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
            return std::nullopt;
        ep.host = std::string(text.substr(1, close - 1));
        port = text.substr(close + 2);
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string_view::npos || text.find(':') != colon)
            return std::nullopt;
        ep.host = std::string(text.substr(0, colon));
        port = text.substr(colon + 1);
    }
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ep.host.empty() || port.empty() || ec != std::errc{} || ptr != port.data() + port.size() ||
        value > 65535)
        return std::nullopt;
    ep.port = static_cast<std::uint16_t>(value);
    return ep;
}

std::string env_name(std::string_view key)
{
    std::string out = "SEEDBOXD_";
    for (char c : key)
        out += c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

void Config::resolve()
{
    namespace fs = std::filesystem;
    auto absolute = [](std::string& path) {
        if (path.empty())
            return;
        std::error_code ec;
        auto abs = fs::absolute(path, ec);
        if (!ec)
            path = abs.lexically_normal().string();
        // "/srv/x/" and "/srv/x" are one directory; keep the root itself as "/".
        while (path.size() > 1 && path.back() == '/')
            path.pop_back();
    };
    auto derive = [&](std::string const& key, std::string& value, fs::path const& from) {
        if (!value.empty() && !derived.contains(key))
            return;
        value = from.string();
        derived.insert(key);
    };
    absolute(state_dir);
    derive("rpc.token_file", rpc.token_file, fs::path(state_dir) / "rpc.token");
    derive("torrent.default_save_path", torrent.default_save_path,
           fs::path(state_dir) / "downloads");
    derive("tron.key_file", tron.key_file, fs::path(state_dir) / "tron.key");
    absolute(rpc.token_file);
    absolute(torrent.default_save_path);
    absolute(tron.key_file);
    absolute(tron.api_key_file);
    absolute(watch.dir);
    if (torrent.allowed_roots.empty() || derived.contains("torrent.allowed_roots")) {
        torrent.allowed_roots = {torrent.default_save_path};
        derived.insert("torrent.allowed_roots");
    }
    for (auto& root : torrent.allowed_roots)
        absolute(root);
}

std::string apply_json(Config& cfg, std::string_view text, std::string_view origin)
{
    json doc;
    try {
        doc = json::parse(text, nullptr, true, /*ignore_comments=*/true);
    } catch (json::parse_error const& e) {
        return std::string(origin) + ": not valid JSON: " + e.what();
    }
    if (!doc.is_object())
        return std::string(origin) + ": the top level must be an object";
    return walk(cfg, doc, "", origin);
}

std::string apply_string(Config& cfg, std::string_view key_name, std::string_view value,
                         std::string_view origin)
{
    auto const* key = find_key(key_name);
    if (!key)
        return std::string(origin) + ": unknown key \"" + std::string(key_name) + "\"";
    auto type = type_of(key->field(cfg));
    std::string s(value);
    json v;
    if (type == "boolean") {
        if (s == "true" || s == "1" || s == "yes" || s == "on")
            v = true;
        else if (s == "false" || s == "0" || s == "no" || s == "off")
            v = false;
        else
            v = s; // rejected by assign with a message naming the key
    } else if (type == "integer") {
        std::int64_t n = 0;
        auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
        if (ec == std::errc{} && ptr == s.data() + s.size() && !s.empty())
            v = n;
        else
            v = s;
    } else if (type == "string[]") {
        if (!s.empty() && s.front() == '[') {
            v = json::parse(s, nullptr, false);
            if (v.is_discarded())
                v = s;
        } else {
            v = json::array();
            std::stringstream ss(s);
            std::string item;
            while (std::getline(ss, item, ','))
                if (!item.empty())
                    v.push_back(item);
        }
    } else {
        v = s;
    }
    return set_key(cfg, *key, v, origin);
}

LoadResult load(Sources const& sources)
{
    Config cfg;
    if (sources.config_file) {
        std::ifstream in(*sources.config_file, std::ios::binary);
        if (!in)
            return {std::nullopt, "cannot read config file " + *sources.config_file};
        std::stringstream ss;
        ss << in.rdbuf();
        if (auto err = apply_json(cfg, ss.str(), *sources.config_file); !err.empty())
            return {std::nullopt, err};
    }
    for (auto const& [name, value] : sources.env) {
        if (name == "SEEDBOXD_CONFIG")
            continue; // names the file, not a key
        if (name == "SEEDBOXD_LABELS") {
            json v = json::parse(value, nullptr, false);
            if (v.is_discarded())
                return {std::nullopt, "environment SEEDBOXD_LABELS: not valid JSON"};
            if (auto err = set_labels(cfg, v, "environment SEEDBOXD_LABELS"); !err.empty())
                return {std::nullopt, err};
            continue;
        }
        auto const* key = [&, &name = name]() -> Key const* {
            for (auto const& k : table())
                if (env_name(k.name) == name)
                    return &k;
            return nullptr;
        }();
        if (!key)
            return {std::nullopt, "environment: unknown variable " + name};
        if (key->file_only)
            return {std::nullopt, "environment " + name + ": " + std::string(key->name) +
                                      " can only be set in the config file"};
        if (auto err = apply_string(cfg, key->name, value, "environment " + name); !err.empty())
            return {std::nullopt, err};
    }
    for (auto const& [name, value] : sources.overrides) {
        if (auto const* key = find_key(name); key && key->file_only)
            return {std::nullopt, "command line: " + name + " can only be set in the config file"};
        if (auto err = apply_string(cfg, name, value, "command line"); !err.empty())
            return {std::nullopt, err};
    }
    cfg.resolve();
    return {cfg, {}};
}

nlohmann::json to_json(Config const& cfg)
{
    Config copy = cfg;
    json out = json::object();
    for (auto const& k : table()) {
        json v = value_of(k.field(copy));
        if (cfg.derived.contains(std::string(k.name)))
            v = v.is_array() ? json::array() : json("");
        if (k.secret && v.is_string() && !v.get<std::string>().empty())
            v = "<redacted>";
        // Appended, not "/" + name: GCC 12 at -O3 misreads that as an overlapping copy
        // (-Wrestrict, GCC bug 105329).
        std::string pointer(1, '/');
        pointer += k.name;
        std::replace(pointer.begin(), pointer.end(), '.', '/');
        out[json::json_pointer(pointer)] = v;
    }
    out["labels"] = labels_json(cfg);
    return out;
}

std::vector<KeyInfo> keys()
{
    Config defaults;
    std::vector<KeyInfo> out;
    for (auto const& k : table()) {
        auto f = k.field(defaults);
        KeyInfo info{std::string(k.name), type_of(f), std::string(k.help), value_of(f)};
        info.min = k.check.min;
        info.max = k.check.max;
        info.choices = k.check.choices;
        info.secret = k.secret;
        info.file_only = k.file_only;
        info.apply = k.apply;
        out.push_back(std::move(info));
    }
    KeyInfo labels{"labels", "object",
                   "label -> {move_on_complete, ratio_limit, seed_time_limit, limit_action}: "
                   "where a label's torrents go when done and their default share limits",
                   json::object()};
    labels.apply = Apply::reload;
    out.push_back(std::move(labels));
    return out;
}

std::string set_value(Config& cfg, std::string_view key, nlohmann::json const& v)
{
    auto const* k = find_key(key);
    if (!k)
        return "unknown key";
    return set_checked(cfg, *k, v);
}

} // namespace seedbox::config
