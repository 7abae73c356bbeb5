// EventHub: server notifications (torrent.added, torrent.stats, ...) fanned out to subscribers.
// Publishers hand over a typed payload; the RPC layer's serializer (rpc/methods/events.cpp, next
// to each payload's schema) makes the notification's JSON. publish() may be called from any
// thread; the message is serialised once and delivered to every sink on the io thread, so sinks
// need no locking of their own.
#pragma once

#include "daemon/base/torrent_state.h"
#include "ledger/settlement_store.h"
#include "ledger/tron/uint256.h"

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

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

// A torrent as the torrent.* events carry it.
struct TorrentNote {
    std::string id;
    std::string name;
    TorrentState state = TorrentState::unknown;
    double progress = 0;
    std::int64_t download_rate = 0;
    std::int64_t upload_rate = 0;
    std::int64_t downloaded = 0;
    std::int64_t uploaded = 0;
    std::int64_t peers = 0;
    std::int64_t seeds = 0;
    double ratio = 0;
    std::int64_t eta = -1;
};

// One payload type per Event, in Event order (event_of() reads the variant's index).
struct TorrentAdded {
    TorrentNote torrent;
    std::string save_path;
    std::vector<std::string> labels;
};
struct TorrentRemoved {
    std::string id;
    std::string name;
    bool deleted_data = false;
    std::optional<std::string> reason{}; // "share_limit" when its limit removed it
};
struct TorrentStateChanged {
    TorrentNote torrent;
    TorrentState previous_state = TorrentState::unknown;
};
struct TorrentFinished {
    TorrentNote torrent;
    std::string save_path;
    std::int64_t completed_time = 0;
};
struct TorrentFailed {
    std::string id;
    std::string name;
    std::string error;
    std::string file;
    std::optional<std::string> operation{}; // "move" when moving the data failed
};
struct TorrentStats {
    std::vector<TorrentNote> torrents;
};
struct LedgerCredited {
    std::int64_t flush = 0;
    std::int64_t counterparties = 0;
    std::int64_t bytes_up = 0;
    std::int64_t bytes_down = 0;
    tron::Uint256 credits = 0;
};
struct VoucherKept {
    bool issued = false; // false: received from a payer
    std::string payer;
    std::string beneficiary;
    tron::Uint256 cumulative = 0;
    tron::Uint256 amount = 0; // the increase over the previous voucher
    std::string torrent;
};
struct BatchChanged {
    std::int64_t id = 0;
    ledger::BatchState state = ledger::BatchState::built;
    std::optional<ledger::BatchState> from{}; // none when just built
    std::string txid;
    std::int64_t claims = 0;
    tron::Uint256 total = 0;
    tron::Uint256 paid = 0;
};

using EventPayload =
    std::variant<TorrentAdded, TorrentRemoved, TorrentStateChanged, TorrentFinished, TorrentFailed,
                 TorrentStats, LedgerCredited, VoucherKept, BatchChanged>;
static_assert(std::variant_size_v<EventPayload> == static_cast<std::size_t>(kLastEvent) + 1,
              "one payload type per Event");
[[nodiscard]] inline Event event_of(EventPayload const& p)
{
    return static_cast<Event>(p.index());
}

class EventHub {
public:
    // `message` is the whole JSON-RPC notification text; `method` lets sinks filter cheaply.
    using Sink = std::function<void(std::string const& method,
                                    std::shared_ptr<std::string const> const& message)>;

    // The whole JSON-RPC notification text of a payload.
    using Serializer = std::string (*)(EventPayload const& payload);

    EventHub(boost::asio::io_context& io, Serializer serializer) : io_(io), serializer_(serializer)
    {
    }

    // Io thread only.
    std::uint64_t subscribe(Sink sink);
    void unsubscribe(std::uint64_t token);

    // Any thread. Nothing is serialized or posted while nobody is subscribed: an event published
    // before a subscription lands on the io thread is not that subscriber's.
    void publish(EventPayload payload);

    // Any thread.
    [[nodiscard]] std::size_t subscribers() const { return count_.load(std::memory_order_acquire); }

    // Every event's name, in Event order (for events.subscribe validation and rpc.discover).
    static std::vector<std::string> const& names();

private:
    boost::asio::io_context& io_;
    Serializer serializer_;
    std::unordered_map<std::uint64_t, Sink> sinks_; // io thread
    std::atomic<std::size_t> count_{0};             // sinks_.size(), for any thread
    std::uint64_t next_ = 1;
};

} // namespace seedbox::daemon
