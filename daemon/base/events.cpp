#include "daemon/base/events.h"

#include <boost/asio/post.hpp>

namespace seedbox::daemon {

std::uint64_t EventHub::subscribe(Sink sink)
{
    auto token = next_++;
    sinks_.emplace(token, std::move(sink));
    return token;
}

void EventHub::unsubscribe(std::uint64_t token)
{
    sinks_.erase(token);
}

void EventHub::publish(std::string method, nlohmann::json params)
{
    nlohmann::json note = {{"jsonrpc", "2.0"}, {"method", method}, {"params", std::move(params)}};
    auto message = std::make_shared<std::string const>(
        note.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    boost::asio::post(io_, [this, method = std::move(method), message] {
        // Copy: a sink may unsubscribe itself (or another) while we iterate.
        auto sinks = sinks_;
        for (auto const& [token, sink] : sinks)
            sink(method, message);
    });
}

std::vector<std::string> const& EventHub::names()
{
    static std::vector<std::string> const n = {
        "torrent.added",    "torrent.removed", "torrent.state_changed",
        "torrent.finished", "torrent.error",   "torrent.stats",
        "ledger.credited",  "ledger.voucher",  "settlement.batch",
    };
    return n;
}

} // namespace seedbox::daemon
