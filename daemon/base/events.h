// EventHub: server notifications (torrent.added, torrent.stats, ...) fanned out to subscribers.
// publish() may be called from any thread; the message is serialised once and delivered to every
// sink on the io thread, so sinks need no locking of their own.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>

namespace seedbox::daemon {

// The notifications the daemon emits. Append only; the RPC layer's event table
// (rpc/methods/events.cpp) gives each its payload schema and is checked complete up to kLastEvent.
enum class Event {
    torrent_added,
    torrent_removed,
    torrent_state_changed,
    torrent_finished,
    torrent_error,
    torrent_stats,
    ledger_credited,
    ledger_voucher,
    settlement_batch,
};
inline constexpr Event kLastEvent = Event::settlement_batch;
// "torrent.added", ...: the notification's method name.
[[nodiscard]] char const* name(Event e);

class EventHub {
public:
    // `message` is the whole JSON-RPC notification text; `method` lets sinks filter cheaply.
    using Sink = std::function<void(std::string const& method,
                                    std::shared_ptr<std::string const> const& message)>;

    explicit EventHub(boost::asio::io_context& io) : io_(io) {}

    // Io thread only.
    std::uint64_t subscribe(Sink sink);
    void unsubscribe(std::uint64_t token);

    // Any thread.
    void publish(Event event, nlohmann::json params);

    [[nodiscard]] std::size_t subscribers() const { return sinks_.size(); }

    // Every event's name, in Event order (for events.subscribe validation and rpc.discover).
    static std::vector<std::string> const& names();

private:
    boost::asio::io_context& io_;
    std::unordered_map<std::uint64_t, Sink> sinks_;
    std::uint64_t next_ = 1;
};

} // namespace seedbox::daemon
