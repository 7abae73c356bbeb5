// Share limits: a finished torrent that reached its ratio or seed-time limit (its own, or its
// label's) is stopped, removed, or removed with its data.
#include "daemon/torrent/engine_impl.h"

#include <spdlog/spdlog.h>

namespace seedbox::daemon {

namespace {

// The share limits that apply to a torrent: its own, else the first of its labels that sets any
// (config).
struct ShareLimits {
    double ratio_limit;
    std::int64_t seed_time_limit;
    std::string action;
    std::string source; // "its" or "label <name>'s", for the log
};

ShareLimits limits_of(Entry const& e, std::map<std::string, config::LabelPolicy> const& labels)
{
    ShareLimits out{e.meta.ratio_limit, e.meta.seed_time_limit, e.meta.limit_action, "its"};
    if (out.ratio_limit < 0 && out.seed_time_limit < 0) {
        for (auto const& l : e.meta.labels) {
            auto it = labels.find(l);
            if (it == labels.end() ||
                (it->second.ratio_limit < 0 && it->second.seed_time_limit < 0))
                continue;
            out.ratio_limit = it->second.ratio_limit;
            out.seed_time_limit = it->second.seed_time_limit;
            out.action = it->second.limit_action;
            out.source = "label " + l + "'s";
            break;
        }
    }
    return out;
}

} // namespace

std::vector<std::pair<std::string, std::string>> Engine::Impl::reach_share_limits()
{
    std::vector<std::pair<std::string, std::string>> hits; // id, action
    std::lock_guard lock(mutex);
    for (auto& [id, e] : torrents) {
        if (!e.have_status || e.meta.stopped || !e.status.is_finished)
            continue;
        auto limits = limits_of(e, cfg.labels);
        auto& action = limits.action;
        bool ratio_hit = limits.ratio_limit >= 0 && ratio_of(e.status) >= limits.ratio_limit;
        bool time_hit = limits.seed_time_limit >= 0 &&
                        e.status.seeding_duration.count() >= limits.seed_time_limit;
        if (!ratio_hit && !time_hit)
            continue;
        if (action == "remove_data") {
            if (auto other = shares_files(e, {id}); !other.empty()) {
                spdlog::warn("torrent {}: its files are also the data of torrent {}; removing "
                             "it but keeping the data",
                             id, other);
                action = "remove";
            }
        }
        spdlog::info("torrent {} reached {} {} limit: {}", id, limits.source,
                     ratio_hit ? "ratio" : "seed time", action);
        hits.emplace_back(id, action);
        if (action == "stop") {
            e.meta.stopped = true;
            e.handle.unset_flags(lt::torrent_flags::auto_managed);
            e.handle.pause();
            e.dirty = true;
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
    }
    bool with_data = action == "remove_data";
    ses->remove_torrent(h, with_data ? lt::session::delete_files : lt::remove_flags_t{});
    store.remove_torrent(id);
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
