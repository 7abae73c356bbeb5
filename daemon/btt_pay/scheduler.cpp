#include "daemon/btt_pay/scheduler.h"

#include <algorithm>
#include <vector>

namespace seedbox::daemon {

namespace {

using Seconds = std::chrono::duration<double>;

// What the connections that want data asked for and got in this run.
struct Demand {
    double top = 0;             // the highest bid
    double weights = 0;         // the sum of the bids
    double total = 0;           // bytes sent to every connection that wants data, this run
    bool payer_waiting = false; // a paying peer we serve waits on our upload rate limiter
};

Demand measure(std::span<ScheduleEntry* const> entries)
{
    Demand d;
    for (auto* e : entries) {
        if (!e->wants)
            continue;
        d.total += static_cast<double>(e->sent);
        if (e->weight > 0) {
            d.top = std::max(d.top, e->weight);
            d.weights += e->weight;
            if (e->waiting && !e->held)
                d.payer_waiting = true;
        }
    }
    return d;
}

// Bytes sent to the connections that want data and were not held.
double served_bytes(std::span<ScheduleEntry* const> entries)
{
    double served = 0;
    for (auto* e : entries)
        if (e->wants && !e->held)
            served += static_cast<double>(e->sent);
    return served;
}

// Not congested: nothing is held and nothing is owed.
void release_all(std::span<ScheduleEntry* const> entries)
{
    for (auto* e : entries) {
        e->held = false;
        e->deficit = 0;
        e->rest = e->backoff = e->held_for = 0;
        e->waited = e->waiting ? UploadScheduler::kWaitMemory : 0;
    }
}

// One congested run: decides, connection by connection in order, whether each is held. The
// decisions read the `held` of the previous run; apply() sets the new ones afterwards.
struct CongestedRun {
    std::span<ScheduleEntry* const> entries;
    double dt;     // seconds since the previous run
    Demand demand; // what measure() found
    bool full;     // we sent at least kFull of the limit
    bool rising;   // the served peers' rate still rises
    double bound;  // a deficit's bound, each way

    [[nodiscard]] bool hold(ScheduleEntry* e) const;
    [[nodiscard]] bool hold_free(ScheduleEntry* e) const;
    [[nodiscard]] bool hold_payer(ScheduleEntry* e) const;
    [[nodiscard]] bool higher_waiting(double weight) const;
    [[nodiscard]] double higher_rate(double weight) const;
    void end_rest_if_recovered(ScheduleEntry* e) const;
    [[nodiscard]] bool release_unused(ScheduleEntry* e) const;
};

bool CongestedRun::hold(ScheduleEntry* e) const
{
    if (!e->wants) {
        e->deficit = 0;
        // A free peer stays held, so it starts held when it asks again.
        return e->weight == 0 ? e->rest == 0 : e->held;
    }
    return e->weight == 0 ? hold_free(e) : hold_payer(e);
}

// A free peer: held while a payer could use its room.
bool CongestedRun::hold_free(ScheduleEntry* e) const
{
    e->deficit = 0;
    end_rest_if_recovered(e);
    if (!higher_waiting(0))
        return release_unused(e);
    if (e->rest > 0) {
        --e->rest;
        return false;
    }
    return true;
}

bool CongestedRun::hold_payer(ScheduleEntry* e) const
{
    e->deficit += demand.total * e->weight / demand.weights - static_cast<double>(e->sent);
    e->deficit = std::clamp(e->deficit, -bound, bound);
    end_rest_if_recovered(e);
    if (e->weight >= demand.top)
        return false;
    if (!higher_waiting(e->weight))
        return release_unused(e);
    if (e->rest > 0) {
        --e->rest;
        e->deficit = std::max(e->deficit, 0.0);
        return false;
    }
    if (!e->held && e->deficit < -demand.total / 2)
        return true;
    if (e->held && e->deficit >= 0) {
        e->backoff = 0;
        return false; // the hold did its job
    }
    return e->held;
}

// Holding a payer only helps while a higher bidder is held back by the limit (we sent at the
// limit, or it was seen waiting lately); otherwise what it would leave goes unused.
bool CongestedRun::higher_waiting(double weight) const
{
    return std::any_of(entries.begin(), entries.end(), [&](ScheduleEntry const* o) {
        return o->wants && !o->held && o->weight > weight && (full || o->waiting || o->waited > 0);
    });
}

// Bytes per second the connections bidding above `weight` took in this run.
double CongestedRun::higher_rate(double weight) const
{
    double sum = 0;
    for (auto const* o : entries)
        if (o->wants && o->weight > weight)
            sum += static_cast<double>(o->sent);
    return sum / dt;
}

// A rest ends once the higher bidders take clearly more than when it began.
void CongestedRun::end_rest_if_recovered(ScheduleEntry* e) const
{
    using S = UploadScheduler;
    if (e->rest > 0 && higher_rate(e->weight) >=
                           std::max(S::kRecover * e->rest_base, e->rest_base + S::kRecoverFloor))
        e->rest = 0;
}

// Release `e`: nobody above it could use what holding it leaves. If it was held, that hold
// was for nothing: forgive its excess and leave it alone for a while, longer each time.
bool CongestedRun::release_unused(ScheduleEntry* e) const
{
    using S = UploadScheduler;
    if (e->held && (e->held_for < S::kRamp || rising))
        return true; // the others' rates (and libtorrent's quota requests) are still rising
    // A higher bidder we hold leaves that room: its own hold is judged first.
    bool const above_held =
        std::any_of(entries.begin(), entries.end(), [&](ScheduleEntry const* o) {
            return o->wants && o->held && o->weight > e->weight;
        });
    if (e->held && above_held)
        return true;
    if (e->held) {
        e->backoff = e->backoff ? std::min(2 * e->backoff, S::kRestMax) : S::kRest;
        e->rest = e->backoff;
        e->rest_base = higher_rate(e->weight);
    }
    e->deficit = std::max(e->deficit, 0.0);
    return false;
}

// Sets the run's decisions, all at once, and ages what each connection remembers.
void apply(std::span<ScheduleEntry* const> entries, std::vector<char> const& hold)
{
    for (std::size_t i = 0; i < entries.size(); ++i) {
        entries[i]->held_for = hold[i] ? entries[i]->held_for + 1 : 0;
        entries[i]->held = hold[i];
        auto& w = entries[i]->waited;
        w = entries[i]->waiting ? UploadScheduler::kWaitMemory : std::max(w - 1, 0);
    }
}

} // namespace

void UploadScheduler::run(std::span<ScheduleEntry* const> entries,
                          std::chrono::steady_clock::time_point now, std::int64_t limit)
{
    // The first run, and one after a stall, count as one second.
    double const dt = last_run_ && now > *last_run_ && now - *last_run_ < std::chrono::seconds(5)
                          ? std::chrono::duration_cast<Seconds>(now - *last_run_).count()
                          : 1.0;
    last_run_ = now;
    Demand const demand = measure(entries);
    if (demand.payer_waiting)
        last_busy_ = now;
    bool const full = limit > 0 && demand.total >= kFull * static_cast<double>(limit) * dt;
    // Still rising by a tenth a run: a payer that just started, or the payers taking up the room
    // a hold has just left (libtorrent's request queues and quota requests follow rates up). A
    // hold is not judged while the rate rises. Measured over the peers that were served: a held
    // peer still drains what libtorrent had queued for it in the first run after its hold.
    double const rate = served_bytes(entries) / dt;
    bool const rising = rate > 1.1 * last_rate_;
    last_rate_ = rate;
    if (full && demand.weights > 0)
        last_busy_ = now;
    congested_ = demand.weights > 0 && last_busy_ && now - *last_busy_ < kCongestionMemory;
    if (!congested_) {
        release_all(entries);
        return;
    }
    // Deficits are bounded by two runs' traffic each way (at the limit when it is known: a run
    // can send nothing while a burst of quota waits on a slow receiver), so a peer that paused
    // (not interested, slow link) neither banks a long claim nor carries a long debt.
    double const bound = 2 * std::max(demand.total, static_cast<double>(limit) * dt);
    CongestedRun const decide{entries, dt, demand, full, rising, bound};
    std::vector<char> hold(entries.size());
    for (std::size_t i = 0; i < entries.size(); ++i)
        hold[i] = decide.hold(entries[i]);
    apply(entries, hold);
}

} // namespace seedbox::daemon
