#include "daemon/btt_pay/scheduler.h"

#include <algorithm>
#include <vector>

namespace seedbox::daemon {

void UploadScheduler::run(std::span<ScheduleEntry* const> entries,
                          std::chrono::steady_clock::time_point now)
{
    double top = 0, weights = 0;
    double total = 0; // bytes sent to every connection that wants data, this run
    for (auto* e : entries) {
        if (!e->wants)
            continue;
        total += static_cast<double>(e->sent);
        if (e->weight > 0) {
            top = std::max(top, e->weight);
            weights += e->weight;
            if (e->waiting && !e->held)
                last_wait_ = now;
        }
    }
    congested_ = weights > 0 && last_wait_ && now - *last_wait_ < kCongestionMemory;
    if (!congested_) {
        for (auto* e : entries) {
            e->held = false;
            e->deficit = 0;
            e->was_waiting = e->waiting;
        }
        return;
    }
    // Deficits are bounded by two runs' traffic each way, so a peer that paused (not interested,
    // slow link) neither banks a long claim nor carries a long debt.
    double const bound = 2 * total;
    // Holding a payer only helps while a higher bidder is held back by the limit (waiting now or
    // at the previous run); otherwise what it would leave goes unused.
    auto higher_waiting = [&](double weight) {
        return std::any_of(entries.begin(), entries.end(), [&](ScheduleEntry const* o) {
            return o->wants && !o->held && o->weight > weight && (o->waiting || o->was_waiting);
        });
    };
    std::vector<char> hold(entries.size());
    for (std::size_t i = 0; i < entries.size(); ++i) {
        auto* e = entries[i];
        if (e->weight == 0) {
            hold[i] = true; // a free peer, wanting data or not (it starts held when it does)
            e->deficit = 0;
            continue;
        }
        if (!e->wants) {
            e->deficit = 0;
            hold[i] = e->held;
            continue;
        }
        e->deficit += total * e->weight / weights - static_cast<double>(e->sent);
        e->deficit = std::clamp(e->deficit, -bound, bound);
        if (e->weight >= top || !higher_waiting(e->weight))
            hold[i] = false;
        else if (!e->held && e->deficit < -total)
            hold[i] = true;
        else if (e->held && e->deficit >= 0)
            hold[i] = false;
        else
            hold[i] = e->held;
    }
    for (std::size_t i = 0; i < entries.size(); ++i) {
        entries[i]->held = hold[i];
        entries[i]->was_waiting = entries[i]->waiting;
    }
}

} // namespace seedbox::daemon
