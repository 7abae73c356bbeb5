#include "daemon/base/events.h"

#include <boost/asio/post.hpp>

namespace seedbox::daemon {

std::uint64_t EventHub::subscribe(Sink sink)
{
    auto token = next_++;
    sinks_.emplace(token, std::move(sink));
    count_.store(sinks_.size(), std::memory_order_release);
    return token;
}

void EventHub::unsubscribe(std::uint64_t token)
{
    sinks_.erase(token);
    count_.store(sinks_.size(), std::memory_order_release);
}

char const* name(Event e)
{
    switch (e) {
    case Event::torrent_added:
        return "torrent.added";
    case Event::torrent_removed:
        return "torrent.removed";
    case Event::torrent_state_changed:
        return "torrent.state_changed";
    case Event::torrent_finished:
        return "torrent.finished";
    case Event::torrent_error:
        return "torrent.error";
    case Event::torrent_stats:
        return "torrent.stats";
    case Event::ledger_credited:
        return "ledger.credited";
    case Event::ledger_voucher:
        return "ledger.voucher";
    case Event::settlement_batch:
        return "settlement.batch";
    }
    return "unknown";
}

void EventHub::publish(EventPayload payload)
{
    if (subscribers() == 0)
        return;
    std::string method = name(event_of(payload));
    auto message = std::make_shared<std::string const>(serializer_(payload));
    boost::asio::post(io_, [this, method = std::move(method), message] {
        // Copy: a sink may unsubscribe itself (or another) while we iterate.
        auto sinks = sinks_;
        for (auto const& [token, sink] : sinks)
            sink(method, message);
    });
}

std::vector<std::string> const& EventHub::names()
{
    static auto const n = [] {
        std::vector<std::string> v;
        for (int i = 0; i <= static_cast<int>(kLastEvent); ++i)
            v.emplace_back(name(static_cast<Event>(i)));
        return v;
    }();
    return n;
}

} // namespace seedbox::daemon
