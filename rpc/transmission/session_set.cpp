// session-set: Transmission's session arguments as the daemon's session settings (the same
// checks as session.set_settings, from the config key table): speed limits, the alternative
// ones and their schedule, queues, default share limits. A known argument asking for a feature
// seedboxd lacks is refused by name; unknown arguments are ignored, as Transmission does.
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

// A limit with its on/off flag (seedRatioLimited + seedRatioLimit, ...): off -> `off`; on, or the
// value alone while on -> the value scaled; on alone -> the current value, else `fallback`
// (Transmission's default). A value alone while off is refused: seedboxd keeps no disabled limit.
template <class T, class Parse>
void flagged(json const& args, char const* on, char const* value, T current, T fallback, T off,
             Parse parse, char const* setting, daemon::SessionSettings& out)
{
    bool const has_on = args.contains(on), has_value = args.contains(value);
    if (!has_on && !has_value)
        return;
    bool const enable = has_on ? boolean(args[on], on) : current != off;
    if (!enable && has_value && !has_on)
        throw Failure(std::string(value) + ": send " + on +
                      " true with it (seedboxd keeps no disabled limit)");
    if (!enable)
        out[setting] = off;
    else if (has_value)
        out[setting] = parse(args[value]);
    else
        out[setting] = current != off ? current : fallback;
}

std::int64_t current_int(daemon::SessionSettings const& s, char const* key)
{
    auto it = s.find(key);
    return it != s.end() && std::holds_alternative<std::int64_t>(it->second)
               ? std::get<std::int64_t>(it->second)
               : -1;
}

double current_number(daemon::SessionSettings const& s, char const* key)
{
    auto it = s.find(key);
    return it != s.end() && std::holds_alternative<double>(it->second)
               ? std::get<double>(it->second)
               : -1;
}

// The queues, the default share limits: each an on/off flag beside its value.
void flagged_settings(Context& ctx, json const& args, daemon::SessionSettings& out)
{
    auto const now = ctx.engine.session_settings();
    auto count = [](char const* key) {
        return [key](json const& v) {
            auto n = integer(v, key);
            if (n < 0 || n > 1000000)
                throw Failure(std::string(key) + " must be 0..1000000");
            return n;
        };
    };
    auto minutes = [](json const& v) {
        auto n = integer(v, "idle-seeding-limit");
        if (n < 0 || n > (1LL << 40) / 60)
            throw Failure("idle-seeding-limit must be 0.." + std::to_string((1LL << 40) / 60));
        return n * 60;
    };
    auto ratio = [](json const& v) {
        if (!v.is_number() || v.get<double>() < 0 || v.get<double>() > 1e6)
            throw Failure("seedRatioLimit must be a number 0..1000000");
        return v.get<double>();
    };
    flagged<std::int64_t>(args, "download-queue-enabled", "download-queue-size",
                          current_int(now, "active_downloads"), 5, -1, count("download-queue-size"),
                          "active_downloads", out);
    flagged<std::int64_t>(args, "seed-queue-enabled", "seed-queue-size",
                          current_int(now, "active_seeds"), 10, -1, count("seed-queue-size"),
                          "active_seeds", out);
    flagged<double>(args, "seedRatioLimited", "seedRatioLimit", current_number(now, "ratio_limit"),
                    2.0, -1.0, ratio, "ratio_limit", out);
    flagged<std::int64_t>(args, "idle-seeding-limit-enabled", "idle-seeding-limit",
                          current_int(now, "idle_limit"), 30 * 60, -1, minutes, "idle_limit", out);
}

// The alternative speed limits (kB/s) and their schedule.
void alt_speed(json const& args, daemon::SessionSettings& out)
{
    for (auto const& [key, setting] : {std::pair{"alt-speed-down", "alt_download_rate_limit"},
                                       std::pair{"alt-speed-up", "alt_upload_rate_limit"}})
        if (args.contains(key)) {
            auto kb = integer(args[key], key);
            if (kb < 0 || kb > INT32_MAX / 1000)
                throw Failure(std::string(key) + " must be 0.." + std::to_string(INT32_MAX / 1000));
            out[setting] = kb * 1000;
        }
    for (auto const& [key, setting] : {std::pair{"alt-speed-enabled", "alt_speed"},
                                       std::pair{"alt-speed-time-enabled", "alt_speed_schedule"}})
        if (args.contains(key))
            out[setting] = boolean(args[key], key);
    // Checked against their ranges by the engine, which names the setting.
    for (auto const& [key, setting] : {std::pair{"alt-speed-time-begin", "alt_speed_begin"},
                                       std::pair{"alt-speed-time-end", "alt_speed_end"},
                                       std::pair{"alt-speed-time-day", "alt_speed_days"}})
        if (args.contains(key))
            out[setting] = integer(args[key], key);
}

void refuse_unsupported(Context& ctx, json const& args)
{
    for (auto const* key : {"incomplete-dir-enabled", "queue-stalled-enabled"})
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
    alt_speed(args, s);
    flagged_settings(ctx, args, s);
    static constexpr std::pair<char const*, char const*> kInts[] = {
        {"peer-limit-global", "connections_limit"}, {"peer-port", "listen_port"}};
    for (auto const& [key, setting] : kInts)
        if (args.contains(key))
            s[setting] = integer(args[key], key);
    static constexpr std::pair<char const*, char const*> kBools[] = {
        {"dht-enabled", "dht"},
        {"lpd-enabled", "lpd"},
        {"pex-enabled", "pex"},
        {"blocklist-enabled", "blocklist"}};
    for (auto const& [key, setting] : kBools)
        if (args.contains(key))
            s[setting] = boolean(args[key], key);
    if (args.contains("encryption"))
        s["encryption"] = encryption_of(args["encryption"]);
    if (args.contains("blocklist-url")) {
        if (!args["blocklist-url"].is_string())
            throw Failure("blocklist-url must be a string");
        s["blocklist_url"] = args["blocklist-url"].get<std::string>();
    }
    if (!s.empty())
        check(ctx.engine.set_session_settings(s));
    return json::object();
}

} // namespace seedbox::rpc::transmission
