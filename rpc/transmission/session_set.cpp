// session-set: Transmission's session arguments as the daemon's session settings (the same
// checks as session.set_settings, from the config key table). A known argument asking for a
// feature seedboxd lacks is refused by name; unknown arguments are ignored, as Transmission does.
#include "rpc/transmission/internal.h"

namespace seedbox::rpc::transmission {

namespace {

std::int64_t integer(json const& v, std::string const& key)
{
    if (!v.is_number_integer())
        throw Failure(key + " must be an integer");
    return v.get<std::int64_t>();
}

// speed-limit-down/-up (kB/s) with their -enabled flags as a rate limit in bytes/s.
void speed(json const& args, char const* value, char const* on, char const* setting,
           daemon::SessionSettings& out)
{
    if (args.contains(on) && !boolean(args[on], on)) {
        out[setting] = std::int64_t{0};
        return;
    }
    if (args.contains(value)) {
        auto kb = integer(args[value], value);
        if (kb < 0 || kb > INT32_MAX / 1000)
            throw Failure(std::string(value) + " must be 0.." + std::to_string(INT32_MAX / 1000));
        out[setting] = kb * 1000;
    }
}

std::string encryption_of(json const& v)
{
    auto s = v.is_string() ? v.get<std::string>() : std::string();
    if (s == "required")
        return "forced";
    if (s == "preferred")
        return "enabled";
    if (s == "tolerated")
        return "disabled";
    throw Failure("encryption must be required, preferred or tolerated");
}

void refuse_unsupported(Context& ctx, json const& args)
{
    for (auto const* key : {"alt-speed-enabled", "alt-speed-time-enabled", "blocklist-enabled",
                            "idle-seeding-limit-enabled", "seedRatioLimited",
                            "incomplete-dir-enabled", "queue-stalled-enabled"})
        if (args.contains(key) && args[key] == true)
            throw Failure(std::string(key) + ": not supported by seedboxd yet");
    // Settings of the configuration file: a client saving its whole form sends them unchanged.
    auto const& dir = ctx.config.torrent.default_save_path;
    if (args.contains("download-dir") && args["download-dir"] != dir)
        throw Failure("download-dir: set torrent.default_save_path in the configuration file");
    for (auto const* key : {"peer-port-random-on-start", "rename-partial-files"})
        if (args.contains(key) && args[key] != false)
            throw Failure(std::string(key) + ": not supported by seedboxd");
}

} // namespace

json session_set(Context& ctx, json const& args)
{
    refuse_unsupported(ctx, args);
    daemon::SessionSettings s;
    speed(args, "speed-limit-down", "speed-limit-down-enabled", "download_rate_limit", s);
    speed(args, "speed-limit-up", "speed-limit-up-enabled", "upload_rate_limit", s);
    static constexpr std::pair<char const*, char const*> kInts[] = {
        {"peer-limit-global", "connections_limit"},
        {"peer-port", "listen_port"},
        {"download-queue-size", "active_downloads"},
        {"seed-queue-size", "active_seeds"}};
    for (auto const& [key, setting] : kInts)
        if (args.contains(key))
            s[setting] = integer(args[key], key);
    static constexpr std::pair<char const*, char const*> kBools[] = {
        {"dht-enabled", "dht"}, {"lpd-enabled", "lpd"}, {"pex-enabled", "pex"}};
    for (auto const& [key, setting] : kBools)
        if (args.contains(key))
            s[setting] = boolean(args[key], key);
    if (args.contains("encryption"))
        s["encryption"] = encryption_of(args["encryption"]);
    if (!s.empty())
        check(ctx.engine.set_session_settings(s));
    return json::object();
}

} // namespace seedbox::rpc::transmission
