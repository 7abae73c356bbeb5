// Upload priority by bid: which connections the provider holds choked so that, while its upload
// limit is what holds paying peers back, they are served in bid order ahead of free peers.
//
// Why choking: libtorrent 2.0 gives a connection its peer classes (and so its bandwidth priority)
// once, when it opens, and offers no call to change them later; a payer's first voucher arrives on
// a connection that is already open. Choking is the one lever the plugin's handle has on a live
// connection. With payments on, every peer ignores libtorrent's unchoke slots (payments.h), so
// libtorrent's choker never undoes what this decides.
//
// The policy, run twice a second over every connection that wants data from us:
// - Congested: some paying peer was waiting on our upload rate limiter (libtorrent's bw_limit) in
//   the last kCongestionMemory. Otherwise nothing is held, and free peers use what payers leave.
// - While congested, each paying peer's fair share of what we sent is proportional to its accepted
//   bid; free peers' share is zero. A connection keeps a deficit (share - bytes it got). The top
//   bidder is never held; another payer is held once it is more than one run's traffic ahead of
//   its share, and released when it is behind or when no higher bidder is waiting on the limiter
//   (it could not use the room); free peers are held.
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
    double weight = 0;        // accepted bid (any common unit); 0 = free peer
    std::int64_t sent = 0;    // payload bytes sent to it since the previous run
    bool wants = false;       // interested in us and not refused (payments.require)
    bool waiting = false;     // waiting on our upload rate limiter now
    double deficit = 0;       // bytes: its share minus what it got, while congested
    bool held = false;        // choked by the scheduler
    bool was_waiting = false; // `waiting` at the previous run
};

class UploadScheduler {
public:
    static constexpr auto kCongestionMemory = std::chrono::seconds(5);

    void run(std::span<ScheduleEntry* const> entries, std::chrono::steady_clock::time_point now);
    [[nodiscard]] bool congested() const { return congested_; }

private:
    std::optional<std::chrono::steady_clock::time_point> last_wait_;
    bool congested_ = false;
};

} // namespace seedbox::daemon
