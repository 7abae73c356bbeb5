// SIGHUP: reads the configuration again and applies what can change while running.
#include "daemon/reload.h"

#include "daemon/base/paths.h"
#include "daemon/torrent/engine.h"
#include "daemon/watch_dir.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <map>

namespace seedbox::daemon {

// Keys whose value differs between two configurations ("bt.upload_rate_limit", ...); secrets
// are compared too (only their names leave this function).
std::vector<std::string> changed_keys(config::Config const& a, config::Config const& b)
{
    auto fa = config::to_json(a, false).flatten();
    auto fb = config::to_json(b, false).flatten();
    std::vector<std::string> out;
    for (auto const& [k, v] : fb.items())
        if (!fa.contains(k) || fa[k] != v)
            out.push_back(k);
    for (auto const& [k, v] : fa.items())
        if (!fb.contains(k))
            out.push_back(k);
    for (auto& k :
         out) { // "/bt/upload_rate_limit" or "/rpc/allowed_hosts/0" -> "bt.upload_rate_limit"
        auto parts = k.substr(1);
        std::string key;
        std::size_t pos = 0;
        int depth = 0;
        while (pos <= parts.size() && depth < 2) {
            auto next = parts.find('/', pos);
            auto seg =
                parts.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
            if (!seg.empty() && std::isdigit(static_cast<unsigned char>(seg[0])))
                break;
            key += (key.empty() ? "" : ".") + seg;
            ++depth;
            if (next == std::string::npos)
                break;
            pos = next + 1;
        }
        k = key;
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

// Every label's move_on_complete must lie inside torrent.allowed_roots, like any API path (it is
// created if missing). Error text or empty.
std::string check_label_paths(config::Config const& cfg)
{
    for (auto const& [label, p] : cfg.labels) {
        if (p.move_on_complete.empty())
            continue;
        auto ok = make_confined_dir(p.move_on_complete,
                                    {cfg.torrent.default_save_path, cfg.torrent.allowed_roots});
        if (!ok)
            return "labels." + label + ".move_on_complete: " + ok.error().message;
    }
    return {};
}

namespace {

// What a reload does with each changed key, from the config key table: BitTorrent session
// settings go to the engine together, reloadable keys apply now, the rest wait for a restart.
struct ReloadPlan {
    SessionSettings settings; // "upload_rate_limit": value, ...
    std::vector<std::string> applied;
    std::vector<std::string> restart;
};

// A session setting's value in the config's JSON form (bool, integer, number or string by its
// key).
SettingValue setting_value(nlohmann::json const& v)
{
    if (v.is_boolean())
        return v.get<bool>();
    if (v.is_number_integer())
        return v.get<std::int64_t>();
    if (v.is_number())
        return v.get<double>();
    return v.get<std::string>();
}

ReloadPlan plan(std::vector<std::string> const& changed, config::Config const& next)
{
    std::map<std::string, config::Apply> apply;
    for (auto const& k : config::keys())
        apply[k.name] = k.apply;
    auto apply_of = [&](std::string const& k) {
        if (auto it = apply.find(k); it != apply.end())
            return it->second;
        // labels.tv.ratio_limit: a part of "labels"
        auto it = apply.find(k.substr(0, k.find('.')));
        return it != apply.end() ? it->second : config::Apply::restart;
    };
    auto const bt = config::to_json(next)["bt"];
    ReloadPlan p;
    for (auto const& k : changed) {
        auto const how = apply_of(k);
        if (how == config::Apply::session)
            p.settings[k.substr(3)] = setting_value(bt[k.substr(3)]);
        else if (how == config::Apply::reload)
            p.applied.push_back(k);
        else
            p.restart.push_back(k);
    }
    return p;
}

std::string comma_list(std::vector<std::string> const& v)
{
    std::string out;
    for (auto const& k : v)
        out += (out.empty() ? "" : ", ") + k;
    return out;
}

// The running configuration after a reload: what was applied takes the new value; the
// restart-only keys keep their running values, so they are reported again next time.
void keep_applied(config::Config& current, config::Config const& next,
                  std::vector<std::string> const& applied)
{
    if (std::find(applied.begin(), applied.end(), "log_level") != applied.end())
        current.log_level = next.log_level;
    auto const old_bt = current.bt;
    current.bt = next.bt;
    current.labels = next.labels;
    current.hooks = next.hooks;
    current.watch = next.watch;
    current.bt.alert_queue_size = old_bt.alert_queue_size;
    current.bt.file_pool_size = old_bt.file_pool_size;
    current.bt.local_peers_unthrottled = old_bt.local_peers_unthrottled;
    current.bt.user_agent = old_bt.user_agent;
}

} // namespace

void reload(config::Config& current, std::function<config::LoadResult()> const& read,
            Engine& engine, WatchDir& watch)
{
    if (!read) {
        spdlog::warn("SIGHUP: nothing to reload");
        return;
    }
    auto loaded = read();
    if (!loaded.config) {
        spdlog::error("SIGHUP: configuration not reloaded, keeping the running one: {}",
                      loaded.error);
        return;
    }
    auto const& next = *loaded.config;
    if (auto err = check_label_paths(next); !err.empty()) {
        spdlog::error("SIGHUP: configuration not reloaded, keeping the running one: {}", err);
        return;
    }
    auto changed = changed_keys(current, next);
    if (changed.empty()) {
        spdlog::info("SIGHUP: configuration reloaded; nothing changed");
        return;
    }
    auto p = plan(changed, next);
    if (!p.settings.empty()) {
        if (auto st = engine.set_session_settings(p.settings); !st) {
            spdlog::error("SIGHUP: session settings not applied: {}", st.error().message);
            return;
        }
        for (auto const& [k, v] : p.settings)
            p.applied.push_back("bt." + k);
    }
    if (std::find(p.applied.begin(), p.applied.end(), "log_level") != p.applied.end())
        spdlog::set_level(spdlog::level::from_str(next.log_level));
    engine.set_policies(next.labels, next.hooks);
    watch.configure(next.watch.dir, std::chrono::seconds(next.watch.interval));
    spdlog::info("SIGHUP: configuration reloaded; applied: {}",
                 p.applied.empty() ? "-" : comma_list(p.applied));
    if (!p.restart.empty())
        spdlog::warn("SIGHUP: these changes take effect after a restart: {}",
                     comma_list(p.restart));
    keep_applied(current, next, p.applied);
}

} // namespace seedbox::daemon
