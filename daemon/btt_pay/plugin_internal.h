// The btt_pay extension's internals, shared by its source files: the per-connection PeerPlugin
// (plugin.h says what it does), the session's Schedule of connections and the wire helpers.
#pragma once

#include "daemon/btt_pay/plugin.h"
#include "daemon/btt_pay/scheduler.h"

#include <libtorrent/bdecode.hpp>
#include <libtorrent/entry.hpp>
#include <libtorrent/peer_connection_handle.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace seedbox::daemon::detail {

// Bytes as a bencoded byte string.
std::string as_string(tron::ByteView b);

// A bid as the wire carries it: a decimal string of base units per GiB, at most kMaxBid (so
// bytes x bid stays far inside 256 bits). Anything else is not a bid.
std::optional<tron::Uint256> parse_bid(lt::string_view text);

// One connection's side of the extension. Its members are defined by job: peer_plugin.cpp (life
// cycle, byte counting, tick, closing), messages.cpp (handshake, hello, decoding and sending
// messages), peer_payments.cpp (roles, bids, vouchers, credit line), peer_schedule.cpp (holds).
class PeerPlugin final : public lt::peer_plugin, public std::enable_shared_from_this<PeerPlugin> {
public:
    PeerPlugin(lt::peer_connection_handle pc, std::string torrent, std::shared_ptr<Accounting> sink,
               std::shared_ptr<Payments> payments);

    std::string const& ip() const { return delta_.ip; }

    // Once a second (libtorrent's plugin tick), before the scheduler's run (Schedule below).
    ScheduleEntry& schedule_entry();

    void apply_schedule();

    ~PeerPlugin() override;

    lt::string_view type() const override { return "btt_pay"; }

    void sent_payload(int bytes) override;

    bool on_piece(lt::peer_request const& piece, lt::span<char const>) override;

    // With payments.require, a peer over its credit line is not served: checked on every request,
    // so a connection that starts over the line (a reconnect) gets nothing, and choked on the tick.
    bool on_request(lt::peer_request const&) override;

    void add_handshake(lt::entry& h) override;

    // Must accept every peer: returning false detaches the plugin and accounting would stop.
    bool on_extension_handshake(lt::bdecode_node const& h) override;

    bool on_extended(int length, int msg, lt::span<char const> body) override;

    // A block put in the send buffer (sent_piece) is counted when libtorrent reports its send
    // (sent_payload). libtorrent drops that report once the connection is closing, so a connection
    // closed by choice (both sides seeding, timeouts) first waits for every queued block to be
    // reported, 10 s at most (a peer that stops reading). A peer that hangs up itself can still
    // leave its last sends uncounted (README, ledger).
    void sent_piece(lt::peer_request const& r) override { queued_ += r.length; }

    bool unreported_sends(std::chrono::steady_clock::time_point now);

    void tick() override;

    // Both sides finished: libtorrent drops the connection. A payer first pays for its last
    // bytes and lets go when the provider acknowledges; a provider waits for that voucher. Either
    // side holds for 10 s at most.
    bool can_disconnect(lt::error_code const& ec) override;

    void on_disconnect(lt::error_code const&) override;

private:
    // We upload to them, they offered to pay and we accepted their bid.
    bool provider_role() const;
    // We download from them, they sell and we pay.
    bool payer_role() const;
    // Per GiB we pay them: our bid when it meets their price (it never exceeds
    // payments.max_price_per_gib), their price when we made no bid and it is within that cap.
    std::optional<tron::Uint256> paying_rate() const;
    // Per GiB an authenticated peer owes for what we upload: its accepted bid, else our price.
    tron::Uint256 upload_rate() const;

    // Provider: a bid from the handshake (`raise` false) or a `bid` message. At or above our
    // price it is what the peer pays from now on; below, the peer is told our price and, until it
    // bids enough, served as a free peer. A bid only rises.
    void consider_bid(std::optional<tron::Uint256> bid, bool raise = false);

    void on_bid(lt::string_view text);

    // Payer: a provider that refuses our bid names its price; within payments.max_price_per_gib
    // we raise our bid to it, else we stay a free peer to it.
    void on_reject_message(lt::string_view reason, lt::string_view price_text);

    // Registers this connection among those we pay on (Payments::cheapest_paid), once.
    void start_paying();
    void stop_paying();

    void issue(bool force);

    // The counterparty's line, not the connection's: a payer (proven address, offers to pay)
    // owes per address, and the payers of one IP together (Payments::join); anyone else, including
    // a proven address that does not pay (addresses cost nothing to make), per (torrent, IP) across
    // its connections within payments.credit_window.
    bool over_credit_line() const;

    // torrent.peers' view of this connection.
    void publish_payment();

    void enforce_credit_line();

    void on_voucher(lt::string_view cumulative, lt::string_view sig);

    void on_paid();

    void on_ack(lt::string_view cumulative);

    void on_owed(lt::string_view cumulative);

    void send_hello();

    void on_hello(lt::string_view sig);

    void reject(std::string const& reason, std::optional<tron::Uint256> price = std::nullopt);

    void send(lt::entry const& e);

    void push();

    lt::peer_connection_handle pc_;
    std::shared_ptr<Accounting> sink_;
    std::shared_ptr<Payments> pay_;
    PayIdentity const* id_ = nullptr;
    ledger::Delta delta_;
    std::int64_t up_total_ = 0;
    std::int64_t down_total_ = 0;
    std::array<std::uint8_t, 16> nonce_{};
    std::array<std::uint8_t, 16> their_nonce_{};
    std::optional<tron::Address> claimed_;
    std::optional<tron::Uint256> their_price_;
    std::optional<tron::Uint256> accepted_bid_; // provider: what this payer pays per GiB
    tron::Uint256 my_bid_ = 0;                  // payer: our bid to them; 0 = none
    std::optional<tron::Uint256> paying_at_;    // payer: registered with start_paying
    bool their_pays_ = false;
    bool same_terms_ = false;
    int remote_id_ = -1;
    bool authenticated_ = false;
    bool refusing_ = false; // payments.require and over the credit line
    Payments::PayClass class_ = Payments::PayClass::free; // as of the last tick
    ScheduleEntry sched_;                                 // upload priority (scheduler.h)
    std::int64_t sched_up_ = 0;
    bool held_by_us_ = false; // choked by the scheduler at its last run
    bool disconnected_ = false;
    std::optional<std::chrono::steady_clock::time_point> holding_;
    std::int64_t queued_ = 0; // payload put in the send buffer
    std::string endpoint_;    // endpoint_key() of the connection; empty without one
    std::optional<std::chrono::steady_clock::time_point> unreported_since_;
    std::optional<lt::error_code> close_when_reported_; // a close we deferred for unreported sends
    tron::Uint256 owed_sent_ = 0;
    tron::Uint256 last_kept_ = 0; // provider: the payer's voucher last acknowledged here
    int vouchers_ = 0;            // provider: vouchers kept from this connection
    int vouchers_at_hold_ = 0;
    std::chrono::steady_clock::time_point last_ack_{}; // provider: when we last sent an ack
    int ticks_ = 0;
    int rejected_ = 0;
};

// Every live connection of the session, for the upload scheduler. Network thread only.
struct Schedule {
    explicit Schedule(std::shared_ptr<Payments> p) : payments(std::move(p)) {}

    std::shared_ptr<Payments> payments;
    std::vector<std::weak_ptr<PeerPlugin>> peers;
    UploadScheduler policy;

    void run();
};

std::shared_ptr<PeerPlugin> make_peer(lt::peer_connection_handle const& pc, std::string torrent,
                                      std::shared_ptr<Accounting> sink,
                                      std::shared_ptr<Payments> payments);

} // namespace seedbox::daemon::detail
