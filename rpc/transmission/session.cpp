// session-* and the other session-wide methods: session-get reports the daemon's real settings in
// Transmission's names and units (speeds in kB/s, K = 1000; limits in minutes); what seedboxd
// does not have (an incomplete-files folder, a stalled-queue rule) reads as off, which it is.
#include "daemon/base/paths.h"
#include "rpc/transmission/internal.h"

#include <algorithm>
#include <filesystem>

namespace seedbox::rpc::transmission {

std::int64_t int_setting(daemon::SessionSettings const& s, char const* key)
{
    auto it = s.find(key);
    return it != s.end() && std::holds_alternative<std::int64_t>(it->second)
               ? std::get<std::int64_t>(it->second)
               : 0;
}

namespace {

std::string string_setting(daemon::SessionSettings const& s, char const* key)
{
    auto it = s.find(key);
    return it != s.end() && std::holds_alternative<std::string>(it->second)
               ? std::get<std::string>(it->second)
               : std::string();
}

double number_setting(daemon::SessionSettings const& s, char const* key)
{
    auto it = s.find(key);
    return it != s.end() && std::holds_alternative<double>(it->second)
               ? std::get<double>(it->second)
               : -1;
}

bool bool_setting(daemon::SessionSettings const& s, char const* key)
{
    auto it = s.find(key);
    return it != s.end() && std::holds_alternative<bool>(it->second) && std::get<bool>(it->second);
}

std::string encryption_of(daemon::SessionSettings const& s)
{
    auto it = s.find("encryption");
    auto v = it != s.end() && std::holds_alternative<std::string>(it->second)
                 ? std::get<std::string>(it->second)
                 : "enabled";
    return v == "forced" ? "required" : v == "disabled" ? "tolerated" : "preferred";
}

std::int64_t free_bytes(std::string const& path)
{
    std::error_code ec;
    auto sp = std::filesystem::space(path, ec);
    return ec ? -1 : static_cast<std::int64_t>(sp.available);
}

json units()
{
    return {{"speed-units", {"kB/s", "MB/s", "GB/s", "TB/s"}}, {"speed-bytes", 1000},
            {"size-units", {"kB", "MB", "GB", "TB"}},          {"size-bytes", 1000},
            {"memory-units", {"KiB", "MiB", "GiB", "TiB"}},    {"memory-bytes", 1024}};
}

// Every session-get key this daemon can answer truthfully.
json all_settings(Context& ctx)
{
    auto const s = ctx.engine.session_settings();
    auto const& cfg = ctx.config;
    auto const down = int_setting(s, "download_rate_limit");
    auto const up = int_setting(s, "upload_rate_limit");
    return {
        {"version", version_string()},
        {"rpc-version", kRpcVersion},
        {"rpc-version-minimum", kRpcVersionMinimum},
        {"rpc-version-semver", std::string(kRpcVersionSemver)},
        {"download-dir", cfg.torrent.default_save_path},
        {"download-dir-free-space", free_bytes(cfg.torrent.default_save_path)},
        {"config-dir", cfg.state_dir},
        {"speed-limit-down", down / 1000},
        {"speed-limit-down-enabled", down > 0},
        {"speed-limit-up", up / 1000},
        {"speed-limit-up-enabled", up > 0},
        {"alt-speed-enabled", bool_setting(s, "alt_speed")},
        {"alt-speed-down", int_setting(s, "alt_download_rate_limit") / 1000},
        {"alt-speed-up", int_setting(s, "alt_upload_rate_limit") / 1000},
        {"alt-speed-time-enabled", bool_setting(s, "alt_speed_schedule")},
        {"alt-speed-time-begin", int_setting(s, "alt_speed_begin")},
        {"alt-speed-time-end", int_setting(s, "alt_speed_end")},
        {"alt-speed-time-day", int_setting(s, "alt_speed_days")},
        {"peer-limit-global", int_setting(s, "connections_limit")},
        // No per-torrent default: a torrent without its own limit may use the global one.
        {"peer-limit-per-torrent", int_setting(s, "connections_limit")},
        {"peer-port", int_setting(s, "listen_port")},
        {"peer-port-random-on-start", false},
        {"dht-enabled", bool_setting(s, "dht")},
        {"lpd-enabled", bool_setting(s, "lpd")},
        {"pex-enabled", bool_setting(s, "pex")},
        {"port-forwarding-enabled", bool_setting(s, "upnp") || bool_setting(s, "natpmp")},
        {"utp-enabled", true}, // libtorrent's default, which seedboxd keeps
        {"encryption", encryption_of(s)},
        {"download-queue-enabled", int_setting(s, "active_downloads") >= 0},
        {"download-queue-size", std::max<std::int64_t>(0, int_setting(s, "active_downloads"))},
        {"seed-queue-enabled", int_setting(s, "active_seeds") >= 0},
        {"seed-queue-size", std::max<std::int64_t>(0, int_setting(s, "active_seeds"))},
        {"queue-stalled-enabled", false},
        {"seedRatioLimited", number_setting(s, "ratio_limit") >= 0},
        {"seedRatioLimit", std::max(0.0, number_setting(s, "ratio_limit"))},
        {"idle-seeding-limit-enabled", int_setting(s, "idle_limit") >= 0},
        {"idle-seeding-limit", std::max<std::int64_t>(0, int_setting(s, "idle_limit")) / 60},
        {"blocklist-enabled", bool_setting(s, "blocklist")},
        {"blocklist-size", ctx.engine.blocklist().rules},
        {"blocklist-url", string_setting(s, "blocklist_url")},
        {"incomplete-dir-enabled", false},
        {"incomplete-dir", ""},
        {"rename-partial-files", false},
        {"start-added-torrents", true},
        {"trash-original-torrent-files", false},
        {"script-torrent-done-enabled", !cfg.hooks.on_complete.empty()},
        {"script-torrent-done-filename",
         cfg.hooks.on_complete.empty() ? std::string() : cfg.hooks.on_complete.front()},
        {"units", units()},
    };
}

json session_get(Context& ctx, json const& args)
{
    auto all = all_settings(ctx);
    if (!args.contains("fields") || !args["fields"].is_array())
        return all;
    json out = json::object();
    for (auto const& f : args["fields"])
        if (f.is_string() && all.contains(f.get<std::string>()))
            out[f.get<std::string>()] = all[f.get<std::string>()];
    return out;
}

json session_stats(Context& ctx, json const&)
{
    auto const st = ctx.engine.session_stats();
    auto const torrents = value_of(ctx.engine.list({}, std::nullopt));
    std::int64_t active = 0, up = 0, down = 0;
    for (auto const& t : torrents) {
        active += t.state != daemon::TorrentState::stopped;
        up += t.uploaded;
        down += t.downloaded;
    }
    json const current = {{"uploadedBytes", st.uploaded},
                          {"downloadedBytes", st.downloaded},
                          {"filesAdded", 0},
                          {"sessionCount", 1},
                          {"secondsActive", st.uptime}};
    // seedboxd keeps all-time totals per torrent, not per session: the cumulative figures are
    // the sums over the torrents it holds.
    json const cumulative = {{"uploadedBytes", up},
                             {"downloadedBytes", down},
                             {"filesAdded", static_cast<std::int64_t>(torrents.size())},
                             {"sessionCount", 1},
                             {"secondsActive", st.uptime}};
    return {{"activeTorrentCount", active},
            {"pausedTorrentCount", static_cast<std::int64_t>(torrents.size()) - active},
            {"torrentCount", static_cast<std::int64_t>(torrents.size())},
            {"downloadSpeed", st.download_rate},
            {"uploadSpeed", st.upload_rate},
            {"current-stats", current},
            {"cumulative-stats", cumulative}};
}

json free_space(Context& ctx, json const& args)
{
    if (!args.contains("path") || !args["path"].is_string())
        throw Failure("directory path argument is missing");
    auto const path = args["path"].get<std::string>();
    auto const& t = ctx.config.torrent;
    auto real = value_of(daemon::confine(path, {t.default_save_path, t.allowed_roots}));
    std::error_code ec;
    auto sp = std::filesystem::space(real, ec);
    if (ec)
        throw Failure(path + ": " + ec.message());
    return {{"path", path},
            {"size-bytes", static_cast<std::int64_t>(sp.available)},
            {"total_size", static_cast<std::int64_t>(sp.capacity)}};
}

json port_test(Context&, json const&)
{
    throw Failure("port-test needs a server on the internet to connect back to this port, and "
                  "seedboxd contacts no third party; check it from outside instead");
}

// Bandwidth groups (group-get/-set): seedboxd has none (libtorrent 2.0 limits peers by class,
// not sets of torrents), so the list is empty and creating one is refused by name.
json group_get(Context&, json const&)
{
    return {{"group", json::array()}};
}

json group_set(Context&, json const&)
{
    throw Failure("bandwidth groups are not supported by seedboxd: limit torrents with "
                  "torrent-set (uploadLimit, downloadLimit) or the session's speed limits",
                  Code::invalid_params);
}

json session_close(Context&, json const&)
{
    throw Failure("session-close is refused: stop seedboxd through its service manager");
}

} // namespace

std::vector<MethodEntry> const& session_methods()
{
    static std::vector<MethodEntry> const t = {
        {"session-get", session_get},
        {"session-stats", session_stats},
        {"free-space", free_space},
        {"port-test", port_test},
        {"blocklist-update", blocklist_update},
        {"session-close", session_close},
        {"group-get", group_get},
        {"group-set", group_set},
        {"session-set", session_set},
    };
    return t;
}

} // namespace seedbox::rpc::transmission
