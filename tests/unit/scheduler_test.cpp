#include "daemon/btt_pay/scheduler.h"

#include <doctest/doctest.h>
#include <functional>
#include <vector>

using seedbox::daemon::ScheduleEntry;
using seedbox::daemon::UploadScheduler;

namespace {

// A provider whose upload limit sends `capacity` bytes per run, split evenly (as libtorrent's
// limiter does at equal priority) among the connections that want data and are not held, each of
// which would take up to `demand` bytes. Returns each connection's bytes over runs [warmup, runs).
// `seen`: whether the scheduler sees who is waiting on the limiter (libtorrent's tick hands out
// quota just before the plugin's, so in the daemon it often does not); `limit`: the upload limit
// the scheduler is told, per second (runs are 500 ms apart). `demand(i, run)`: what connection i
// would take in that run.
std::vector<double> simulate(std::vector<double> const& weights,
                             std::function<double(std::size_t, int)> const& demand_at,
                             double capacity, int runs, int warmup, int* held_runs = nullptr,
                             bool seen = true, std::int64_t limit = 0)
{
    UploadScheduler s;
    std::vector<ScheduleEntry> e(weights.size());
    std::vector<ScheduleEntry*> ptrs;
    for (std::size_t i = 0; i < e.size(); ++i) {
        e[i].weight = weights[i];
        e[i].wants = true;
        ptrs.push_back(&e[i]);
    }
    std::vector<double> got(e.size(), 0);
    auto now = std::chrono::steady_clock::time_point{};
    std::vector<double> demand(e.size());
    for (int r = 0; r < runs; ++r) {
        for (std::size_t i = 0; i < e.size(); ++i)
            demand[i] = demand_at(i, r);
        // Water-filling: the limiter splits capacity evenly; what a peer cannot take goes to the
        // others. A peer the limiter holds back is "waiting".
        std::vector<std::size_t> open;
        for (std::size_t i = 0; i < e.size(); ++i) {
            e[i].sent = 0;
            e[i].waiting = false;
            if (!e[i].held)
                open.push_back(i);
        }
        double left = capacity;
        while (!open.empty() && left > 0.5) {
            double each = left / static_cast<double>(open.size());
            std::vector<std::size_t> still;
            for (auto i : open) {
                double take = std::min(each, demand[i] - static_cast<double>(e[i].sent));
                e[i].sent += static_cast<std::int64_t>(take);
                left -= take;
                if (static_cast<double>(e[i].sent) + 1 < demand[i])
                    still.push_back(i);
            }
            if (still.size() == open.size())
                break; // everyone took an even share and wants more: the limit binds
            open = still;
        }
        for (auto i : open)
            e[i].waiting = seen && static_cast<double>(e[i].sent) + 1 < demand[i];
        if (r >= warmup)
            for (std::size_t i = 0; i < e.size(); ++i)
                got[i] += static_cast<double>(e[i].sent);
        now += std::chrono::milliseconds(500);
        s.run(ptrs, now, limit);
        if (held_runs)
            for (auto const& x : e)
                *held_runs += x.held;
    }
    return got;
}

std::vector<double> simulate(std::vector<double> const& weights, std::vector<double> demand,
                             double capacity, int runs, int warmup, int* held_runs = nullptr,
                             bool seen = true, std::int64_t limit = 0)
{
    return simulate(
        weights, [&](std::size_t i, int) { return demand[i]; }, capacity, runs, warmup, held_runs,
        seen, limit);
}

} // namespace

TEST_CASE("scheduler: under a binding upload limit, shares follow the bids and free peers wait")
{
    double const limit = 1 << 20; // per run
    auto got = simulate({2, 1, 0}, {1e12, 1e12, 1e12}, limit, 400, 20);
    double total = got[0] + got[1] + got[2];
    INFO("high " << got[0] / total << " low " << got[1] / total << " free " << got[2] / total);
    CHECK(got[0] >= total / 2);
    CHECK(got[0] > got[1]);
    CHECK(got[1] > got[2]);
    // The shares approach the bids' ratio 2:1.
    CHECK(got[0] / got[1] == doctest::Approx(2.0).epsilon(0.2));
    CHECK(total == doctest::Approx(limit * 380).epsilon(0.01)); // nothing is wasted
}

TEST_CASE("scheduler: told the upload limit, it orders shares without seeing who waits")
{
    double const per_run = 1 << 20;
    auto const limit = static_cast<std::int64_t>(2 * per_run);
    auto got = simulate({2, 1, 0}, {1e12, 1e12, 1e12}, per_run, 400, 20, nullptr, false, limit);
    double total = got[0] + got[1] + got[2];
    INFO("high " << got[0] / total << " low " << got[1] / total << " free " << got[2] / total);
    CHECK(got[0] / got[1] == doctest::Approx(2.0).epsilon(0.2));
    CHECK(got[2] == 0);
    // Not told the limit and blind to waiting, it has no signal: nobody is held (equal shares).
    got = simulate({2, 1, 0}, {1e12, 1e12, 1e12}, per_run, 400, 20, nullptr, false, 0);
    CHECK(got[0] == doctest::Approx(got[2]).epsilon(0.01));
    // A high bidder whose link takes 30% of the limit: holding the low bidder would leave room
    // unused, so it is released and the room goes to it.
    got = simulate({2, 1, 0}, {0.3 * per_run, 1e12, 1e12}, per_run, 200, 20, nullptr, false, limit);
    total = got[0] + got[1] + got[2];
    CHECK(got[0] / total == doctest::Approx(0.3).epsilon(0.05));
    CHECK(total == doctest::Approx(per_run * 180).epsilon(0.05));
    // Payers whose links take 20% of the limit each: the free peer gets the rest, little is lost
    // to trying to hold it.
    got = simulate({2, 1, 0}, {0.2 * per_run, 0.2 * per_run, 1e12}, per_run, 200, 20, nullptr,
                   false, limit);
    total = got[0] + got[1] + got[2];
    INFO("high " << got[0] / total << " low " << got[1] / total << " free " << got[2] / total);
    CHECK(total == doctest::Approx(per_run * 180).epsilon(0.05));
    CHECK(got[0] == doctest::Approx(0.2 * per_run * 180).epsilon(0.01));
}

TEST_CASE("scheduler: a high bidder that cannot take its share leaves the rest to the next bidder")
{
    double const limit = 1 << 20;
    // The high bidder's own link takes at most 30% of our limit.
    auto got = simulate({2, 1, 0}, {0.3 * limit, 1e12, 1e12}, limit, 200, 20);
    double total = got[0] + got[1] + got[2];
    INFO("high " << got[0] / total << " low " << got[1] / total << " free " << got[2] / total);
    CHECK(got[0] / total == doctest::Approx(0.3).epsilon(0.05));
    CHECK(got[1] / total > 0.65);
    CHECK(total == doctest::Approx(limit * 180).epsilon(0.01));
}

TEST_CASE("scheduler: when payers leave room, nobody is held and free peers use it")
{
    int held = 0;
    // Payers take 100 KB per run each, well under the limit: never waiting, never congested.
    auto got = simulate({2, 1, 0}, {1e5, 1e5, 1e12}, 1 << 20, 100, 0, &held);
    CHECK(held == 0);
    CHECK(got[2] > got[0]);
    // Free peers alone are never held either.
    held = 0;
    simulate({0, 0}, {1e12, 1e12}, 1 << 20, 50, 0, &held);
    CHECK(held == 0);
}

TEST_CASE("scheduler: free peers wait while payers are held back by the limit and no longer")
{
    UploadScheduler s;
    ScheduleEntry high{2, 0, true, true, 0, false, false}, low{1, 0, true, true, 0, false, false};
    ScheduleEntry free_peer{0, 0, true, false, 0, false, false};
    std::vector<ScheduleEntry*> all{&high, &low, &free_peer};
    auto now = std::chrono::steady_clock::time_point{};
    high.sent = low.sent = free_peer.sent = 1000;
    s.run(all, now);
    CHECK(s.congested());
    CHECK(free_peer.held);
    CHECK_FALSE(high.held);
    // The payers still want data but stop waiting on the limiter (their own links are slower):
    // the free peer stays held for kCongestionMemory, then gets what they leave.
    high.waiting = low.waiting = false;
    s.run(all, now + std::chrono::seconds(1));
    CHECK(free_peer.held);
    s.run(all, now + UploadScheduler::kCongestionMemory + std::chrono::seconds(1));
    CHECK_FALSE(s.congested());
    CHECK_FALSE(free_peer.held);
    // Congested again; then every payer is done: the free peer is released at once.
    high.waiting = true;
    auto later = now + std::chrono::seconds(30);
    s.run(all, later);
    CHECK(free_peer.held);
    high.wants = low.wants = false;
    s.run(all, later + std::chrono::milliseconds(500));
    CHECK_FALSE(free_peer.held);
}

TEST_CASE("scheduler: a payer that is still speeding up keeps free peers held")
{
    // A payer joins a free peer under a 2 MB/s limit (runs 1 s apart) and its rate climbs as its
    // request queue grows; holding the free peer leaves room only until it catches up.
    UploadScheduler s;
    ScheduleEntry payer{1, 0, true, false, 0, false, false};
    ScheduleEntry free_peer{0, 0, true, false, 0, false, false};
    std::vector<ScheduleEntry*> all{&payer, &free_peer};
    std::int64_t const limit = 2'000'000;
    auto now = std::chrono::steady_clock::time_point{};
    payer.sent = 200'000;
    free_peer.sent = 1'800'000;
    s.run(all, now, limit);
    CHECK(s.congested());
    CHECK(free_peer.held);
    free_peer.sent = 0;
    for (std::int64_t rate : {400'000, 700'000, 1'100'000, 1'500'000, 1'900'000, 1'950'000}) {
        now += std::chrono::seconds(1);
        payer.sent = rate;
        s.run(all, now, limit);
        INFO("payer at " << rate);
        CHECK(free_peer.held);
    }
    // It levels off under the limit (its own link): the hold is judged and the free peer released.
    for (int i = 0; i < 3; ++i) {
        now += std::chrono::seconds(1);
        payer.sent = 1'000'000;
        s.run(all, now, limit);
    }
    CHECK_FALSE(free_peer.held);
}

TEST_CASE(
    "scheduler: after the payers stall for a while, free peers are held again once they recover")
{
    // Both payers stop taking data for 20 s (their disks stall), then take all they can again.
    // While they stall the free peer gets the whole limit; the holds that leave room unused back
    // off. Once the payers compete for the limit again, the free peer must not keep its room.
    double const per_run = 1 << 20;
    auto const limit = static_cast<std::int64_t>(2 * per_run);
    for (bool seen : {true, false}) {
        auto demand = [](std::size_t i, int run) {
            bool const stalled = i < 2 && run >= 20 && run < 60;
            return stalled ? 0.0 : 1e12;
        };
        auto got = simulate({2, 1, 0}, demand, per_run, 60 + 30, 60 + 6, nullptr, seen, limit);
        double const total = got[0] + got[1] + got[2];
        INFO("seen " << seen << ": high " << got[0] / total << " low " << got[1] / total << " free "
                     << got[2] / total);
        CHECK(got[0] >= 0.55 * total);
        CHECK(got[2] <= 0.05 * total);
    }
}
