// Share limits: a finished torrent that reached its ratio, seed-time or idle limit (its own, its
// label's, or the global default) is stopped, removed, or removed with its data.
#include "daemon/torrent/engine_impl.h"

#include <spdlog/spdlog.h>

#include <optional>

namespace seedbox::daemon {

namespace {

using Labels = std::map<std::string, config::LabelPolicy>;

// One share limit as it applies to a torrent: its value (< 0 none), the action that goes with
// it, and whose limit it is (for the log). Pointers into the entry or the config, so checking
// every torrent each second allocates nothing.
struct Limit {
    double value = -1;
    std::string const* action = nullptr;
    std::string const* label = nullptr; // the label whose limit it is; null: not a label's
    char const* level = "";             // "its", "the default"

    [[nodiscard]] std::string source() const
    {
        return label ? "label " + *label + "'s" : std::string(level);
    }
};

// The torrent's own limit unless -1 (-2: none at all); else the first of its labels that sets
// one; else the global default. Each limit (ratio, seed time, idle) is resolved on its own.
template <class T>
Limit resolve(T own, Entry const& e, Labels const& labels, T config::LabelPolicy::*in_label,
              T global, config::BtConfig const& bt)
{
    if (own == -2)
        return {};
    if (own >= 0)
        return {static_cast<double>(own), &e.meta.limit_action, nullptr, "its"};
    for (auto const& l : e.meta.labels)
        if (auto it = labels.find(l); it != labels.end() && it->second.*in_label >= 0)
            return {static_cast<double>(it->second.*in_label), &it->second.limit_action, &l};
    if (global >= 0)
        return {static_cast<double>(global), &bt.limit_action, nullptr, "the default"};
    return {};
}

// The first share limit the torrent has reached, as "<source> <kind>" and its action.
std::optional<std::pair<std::string, std::string>> reached(Entry const& e, Labels const& labels,
                                                           config::BtConfig const& bt)
{
    using LP = config::LabelPolicy;
    auto const& m = e.meta;
    struct Candidate {
        Limit limit;
        double figure;
        char const* kind;
    };
    Candidate const candidates[] = {
        {resolve(m.ratio_limit, e, labels, &LP::ratio_limit, bt.ratio_limit, bt),
         ratio_of(e.status), "ratio"},
        {resolve(m.seed_time_limit, e, labels, &LP::seed_time_limit, bt.seed_time_limit, bt),
         static_cast<double>(e.status.seeding_duration.count()), "seed time"},
        {resolve(m.idle_limit, e, labels, &LP::idle_limit, bt.idle_limit, bt),
         static_cast<double>(idle_seconds(e.status)), "idle"},
    };
    for (auto const& c : candidates)
        if (c.limit.value >= 0 && c.figure >= c.limit.value)
            return std::pair{c.limit.source() + " " + c.kind, *c.limit.action};
    return std::nullopt;
}

} // namespace

std::vector<std::pair<std::string, std::string>> Engine::Impl::reach_share_limits()
{
    std::vector<std::pair<std::string, std::string>> hits; // id, action
    std::lock_guard lock(mutex);
    for (auto& [id, e] : torrents) {
        if (!e.have_status || e.meta.stopped || !e.status.is_finished)
            continue;
        auto hit = reached(e, cfg.labels, cfg.bt);
        if (!hit)
            continue;
        auto& [which, action] = *hit;
        if (action == "remove_data") {
            if (auto other = shares_files(e, {id}); !other.empty()) {
                spdlog::warn("torrent {}: its files are also the data of torrent {}; removing "
                             "it but keeping the data",
                             id, other);
                action = "remove";
            }
        }
        spdlog::info("torrent {} reached {} limit: {}", id, which, action);
        hits.emplace_back(id, action);
        if (action == "stop") {
            e.meta.stopped = true;
            e.meta.limit_reached = true;
            e.handle.unset_flags(lt::torrent_flags::auto_managed);
            e.handle.pause();
            mark_dirty(e);
            store.update_meta(id, e.meta.to_json().dump(), e.save_path);
        }
    }
    return hits;
}

void Engine::Impl::remove_at_share_limit(std::string const& id, std::string const& action)
{
    lt::torrent_handle h;
    std::string name;
    {
        std::lock_guard lock(mutex);
        auto it = torrents.find(id);
        if (it == torrents.end())
            return;
        h = it->second.handle;
        name = it->second.status.name;
        erase_torrent(it);
        // Submitted under the mutex: an add of the same torrent after this point queues its
        // INSERT behind this DELETE, never ahead of it.
        store.remove_torrent(id);
    }
    bool with_data = action == "remove_data";
    ses->remove_torrent(h, with_data ? lt::session::delete_files : lt::remove_flags_t{});
    events.publish(TorrentRemoved{id, name, with_data, "share_limit"});
}

void Engine::Impl::check_share_limits()
{
    for (auto const& [id, action] : reach_share_limits()) {
        if (action == "stop")
            continue;
        remove_at_share_limit(id, action);
    }
}

} // namespace seedbox::daemon
