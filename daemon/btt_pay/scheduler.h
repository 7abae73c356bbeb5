// Upload priority by bid: which connections the provider holds choked so that, while its upload
// limit is what holds paying peers back, they are served in bid order ahead of free peers.
//
// Why choking: libtorrent 2.0 gives a connection its peer classes (and so its bandwidth priority)
// once, when it opens, and offers no call to change them later; a payer's first voucher arrives on
// a connection that is already open. Choking is the one lever the plugin's handle has on a live
// connection. With payments on, every peer ignores libtorrent's unchoke slots (payments.h), so
// libtorrent's choker never undoes what this decides.
//
// The policy, run once a second (libtorrent's plugin tick) over every connection that wants data:
// - Congested: in the last kCongestionMemory, with a paying peer wanting data, we sent at least
//   kFull of the session's upload limit, or a paying peer was seen waiting on our upload rate
//   limiter (libtorrent's bw_limit). The rate is the signal that holds: the tick comes right after
//   libtorrent hands out upload quota, so a peer the limit holds back is often not waiting at that
//   instant; bw_limit is kept for limits the session setting does not show (a torrent's own).
//   Otherwise nothing is held, and free peers use what payers leave.
// - While congested, each paying peer's fair share of what we sent is proportional to its accepted
//   bid; free peers' share is zero. A connection keeps a deficit (share - bytes it got). The top
//   bidder is never held; another payer is held once it is more than half a run's traffic ahead of
//   its share, and released when it is behind or when no higher bidder could use the room (we are
//   under kFull of the limit and no higher bidder was seen waiting on the limiter in the last
//   kWaitMemory runs), judged from the hold's kRamp-th run and not while our rate still rises (the
//   others' quota requests and request queues follow their rates up). A payer released for that is
//   forgiven its excess and left alone for kRest runs, twice as long each time it happens again
//   before a hold works, so a higher bidder whose own link is slow costs little of the limit. Free
//   peers are held the same way, below every payer: while a payer could use the room, and with the
//   same rest when holding them left room unused.
// - A rest ends early when the higher bidders take more than they did while the hold was judged
//   useless (kRecover times that rate, and kRecoverFloor more): their links or disks recovered,
//   or a new one came, so holding may work now. Without this, payers whose disks stalled for a
//   few seconds would find the holds below them backed off for up to kRestMax runs.
// Connections that are served get equal quota from libtorrent's limiter, so holding the lower
// bidder part of the time gives shares in bid order (bench/priority_bench.py measures them).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>

namespace seedbox::daemon {

// One connection as the scheduler sees it. The connection fills the inputs before each run; the
// scheduler keeps `deficit` and sets `held`.
struct ScheduleEntry {
    double weight = 0;     // accepted bid (any common unit); 0 = free peer
    std::int64_t sent = 0; // payload bytes sent to it since the previous run
    bool wants = false;    // interested in us and not refused (payments.require)
    bool waiting = false;  // waiting on our upload rate limiter now
    double deficit = 0;    // bytes: its share minus what it got, while congested
    bool held = false;     // choked by the scheduler
    int waited = 0;        // runs it still counts as waiting (kWaitMemory after it was)
    int rest = 0;          // runs before it may be held again (it was held for nothing)
    int backoff = 0;       // the last such rest; doubles while holding it keeps failing
    int held_for = 0;      // runs it has been held
    double rest_base = 0;  // bytes per second the higher bidders took when its rest began
};

class UploadScheduler {
public:
    static constexpr auto kCongestionMemory = std::chrono::seconds(5);
    static constexpr double kFull = 0.8;  // of the upload limit: the limit binds
    static constexpr int kRest = 8;       // runs a payer held for nothing is left alone, at first
    static constexpr int kRestMax = 64;   // and at most
    static constexpr int kRamp = 3;       // runs a hold is kept before it is judged
    static constexpr int kWaitMemory = 3; // runs a peer seen waiting counts as waiting
    static constexpr double kRecover = 1.25;           // the higher bidders' rate that ends a rest
    static constexpr double kRecoverFloor = 64 * 1024; // bytes per second, at least this much more

    // `limit`: the session's upload limit in bytes per second, 0 = none.
    void run(std::span<ScheduleEntry* const> entries, std::chrono::steady_clock::time_point now,
             std::int64_t limit = 0);
    [[nodiscard]] bool congested() const { return congested_; }

private:
    std::optional<std::chrono::steady_clock::time_point> last_busy_;
    std::optional<std::chrono::steady_clock::time_point> last_run_;
    double last_rate_ = 0; // bytes per second sent to the served peers at the previous run
    bool congested_ = false;
};

} // namespace seedbox::daemon
