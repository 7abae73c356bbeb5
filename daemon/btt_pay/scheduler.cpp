#include "daemon/btt_pay/scheduler.h"

#include <algorithm>
#include <vector>

namespace seedbox::daemon {

void UploadScheduler::run(std::span<ScheduleEntry* const> entries,
                          std::chrono::steady_clock::time_point now, std::int64_t limit)
{
    using Seconds = std::chrono::duration<double>;
    // The first run, and one after a stall, count as one second.
    double const dt = last_run_ && now > *last_run_ && now - *last_run_ < std::chrono::seconds(5)
                          ? std::chrono::duration_cast<Seconds>(now - *last_run_).count()
                          : 1.0;
    last_run_ = now;
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
                last_busy_ = now;
        }
    }
    bool const full = limit > 0 && total >= kFull * static_cast<double>(limit) * dt;
    // Still rising by a tenth a run: a payer that just started, or the payers taking up the room
    // a hold has just left (libtorrent's request queues and quota requests follow rates up). A
    // hold is not judged while the rate rises. Measured over the peers that were served: a held
    // peer still drains what libtorrent had queued for it in the first run after its hold.
    double served = 0;
    for (auto* e : entries)
        if (e->wants && !e->held)
            served += static_cast<double>(e->sent);
    double const rate = served / dt;
    bool const rising = rate > 1.1 * last_rate_;
    last_rate_ = rate;
    if (full && weights > 0)
        last_busy_ = now;
    congested_ = weights > 0 && last_busy_ && now - *last_busy_ < kCongestionMemory;
    if (!congested_) {
        for (auto* e : entries) {
            e->held = false;
            e->deficit = 0;
            e->rest = e->backoff = e->held_for = 0;
            e->waited = e->waiting ? kWaitMemory : 0;
        }
        return;
    }
    // Deficits are bounded by two runs' traffic each way (at the limit when it is known: a run
    // can send nothing while a burst of quota waits on a slow receiver), so a peer that paused
    // (not interested, slow link) neither banks a long claim nor carries a long debt.
    double const bound = 2 * std::max(total, static_cast<double>(limit) * dt);
    // Holding a payer only helps while a higher bidder is held back by the limit (we sent at the
    // limit, or it was seen waiting lately); otherwise what it would leave goes unused.
    auto higher_waiting = [&](double weight) {
        return std::any_of(entries.begin(), entries.end(), [&](ScheduleEntry const* o) {
            return o->wants && !o->held && o->weight > weight &&
                   (full || o->waiting || o->waited > 0);
        });
    };
    // Bytes per second the connections bidding above `weight` took in this run.
    auto higher_rate = [&](double weight) {
        double sum = 0;
        for (auto const* o : entries)
            if (o->wants && o->weight > weight)
                sum += static_cast<double>(o->sent);
        return sum / dt;
    };
    // A rest ends once the higher bidders take clearly more than when it began.
    auto end_rest_if_recovered = [&](ScheduleEntry* e) {
        if (e->rest > 0 && higher_rate(e->weight) >=
                               std::max(kRecover * e->rest_base, e->rest_base + kRecoverFloor))
            e->rest = 0;
    };
    // Release `e`: nobody above it could use what holding it leaves. If it was held, that hold
    // was for nothing: forgive its excess and leave it alone for a while, longer each time.
    auto release_unused = [&](ScheduleEntry* e) {
        if (e->held && (e->held_for < kRamp || rising))
            return true; // the others' rates (and libtorrent's quota requests) are still rising
        // A higher bidder we hold leaves that room: its own hold is judged first.
        bool const above_held =
            std::any_of(entries.begin(), entries.end(), [&](ScheduleEntry const* o) {
                return o->wants && o->held && o->weight > e->weight;
            });
        if (e->held && above_held)
            return true;
        if (e->held) {
            e->backoff = e->backoff ? std::min(2 * e->backoff, kRestMax) : kRest;
            e->rest = e->backoff;
            e->rest_base = higher_rate(e->weight);
        }
        e->deficit = std::max(e->deficit, 0.0);
        return false;
    };
    std::vector<char> hold(entries.size());
    for (std::size_t i = 0; i < entries.size(); ++i) {
        auto* e = entries[i];
        if (!e->wants) {
            e->deficit = 0;
            // A free peer stays held, so it starts held when it asks again.
            hold[i] = e->weight == 0 ? e->rest == 0 : e->held;
            continue;
        }
        if (e->weight == 0) { // a free peer: held while a payer could use its room
            e->deficit = 0;
            end_rest_if_recovered(e);
            if (!higher_waiting(0)) {
                hold[i] = release_unused(e);
            } else if (e->rest > 0) {
                --e->rest;
                hold[i] = false;
            } else {
                hold[i] = true;
            }
            continue;
        }
        e->deficit += total * e->weight / weights - static_cast<double>(e->sent);
        e->deficit = std::clamp(e->deficit, -bound, bound);
        end_rest_if_recovered(e);
        if (e->weight >= top) {
            hold[i] = false;
        } else if (!higher_waiting(e->weight)) {
            hold[i] = release_unused(e);
        } else if (e->rest > 0) {
            --e->rest;
            e->deficit = std::max(e->deficit, 0.0);
            hold[i] = false;
        } else if (!e->held && e->deficit < -total / 2) {
            hold[i] = true;
        } else if (e->held && e->deficit >= 0) {
            hold[i] = false; // the hold did its job
            e->backoff = 0;
        } else {
            hold[i] = e->held;
        }
    }
    for (std::size_t i = 0; i < entries.size(); ++i) {
        entries[i]->held_for = hold[i] ? entries[i]->held_for + 1 : 0;
        entries[i]->held = hold[i];
        auto& w = entries[i]->waited;
        w = entries[i]->waiting ? kWaitMemory : std::max(w - 1, 0);
    }
}

} // namespace seedbox::daemon
