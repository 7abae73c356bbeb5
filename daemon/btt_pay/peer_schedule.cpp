// Upload priority by bid, applied: each connection's entry for the upload scheduler, the
// session-wide run over every live connection, and the holds (chokes) it decides.
#include "daemon/btt_pay/plugin_internal.h"

#include <libtorrent/peer_info.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <string>

namespace seedbox::daemon::detail {

ScheduleEntry& PeerPlugin::schedule_entry()
{
    auto& e = sched_;
    e.sent = up_total_ - sched_up_;
    sched_up_ = up_total_;
    bool const live = pc_.native_handle() && !disconnected_;
    e.wants = live && pc_.is_peer_interested() && !refusing_;
    e.weight = 0;
    e.waiting = false;
    if (live && pay_ && provider_role() && !pay_->over_credit_line(*claimed_, delta_.ip)) {
        e.weight = accepted_bid_->convert_to<double>();
        if (e.wants && !e.held) {
            lt::peer_info info;
            pc_.get_peer_info(info);
            e.waiting = (info.write_state & lt::peer_info::bw_limit) != 0;
        }
    }
    return e;
}

void PeerPlugin::apply_schedule()
{
    if (!pc_.native_handle() || disconnected_)
        return;
    if (sched_.held != held_by_us_)
        spdlog::debug("btt_pay: {} {} (weight {:.3g}, deficit {:.0f}{})", delta_.ip,
                      sched_.held ? "held" : "released", sched_.weight, sched_.deficit,
                      !sched_.held && sched_.rest > 0
                          ? fmt::format("; the room went unused, not held for {} s", sched_.rest)
                          : "");
    if (sched_.held) {
        if (!pc_.is_choked())
            pc_.choke_this_peer();
    } else if (held_by_us_ && !refusing_) {
        pc_.maybe_unchoke_this_peer();
    }
    held_by_us_ = sched_.held;
}

void Schedule::run()
{
    std::vector<std::shared_ptr<PeerPlugin>> live;
    std::vector<ScheduleEntry*> entries;
    std::erase_if(peers, [&](auto const& w) {
        auto p = w.lock();
        if (!p)
            return true;
        entries.push_back(&p->schedule_entry());
        live.push_back(std::move(p));
        return false;
    });
    bool const was = policy.congested();
    policy.run(entries, std::chrono::steady_clock::now(), payments->upload_limit());
    payments->set_by_bid(policy.congested());
    if (policy.congested() && spdlog::should_log(spdlog::level::debug)) {
        std::string line;
        for (std::size_t i = 0; i < entries.size(); ++i)
            if (entries[i]->wants)
                line +=
                    fmt::format("; {} weight {:.3g} sent {}{}{}", live[i]->ip(), entries[i]->weight,
                                entries[i]->sent, entries[i]->waiting ? " waiting" : "",
                                entries[i]->held ? " held" : "");
        spdlog::debug("btt_pay: by bid, limit {} B/s{}", payments->upload_limit(), line);
    }
    if (was != policy.congested())
        spdlog::debug("btt_pay: upload {}", policy.congested()
                                                ? "limited with payers waiting: by bid"
                                                : "has room: no one held");
    for (auto const& p : live)
        p->apply_schedule();
}

} // namespace seedbox::daemon::detail
