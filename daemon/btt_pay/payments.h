// Payments: the voucher logic of the btt_pay extension (design.md §6), shared by every peer
// connection of the session.
//
// Provider side (payments.accept): verifies each voucher a payer sends (cumulative above the one
// kept, TIP-712 signature by the authenticated payer for beneficiary = us, our chain and hub),
// keeps the highest per payer in ledger.db (one transaction with its 'vouchered' journal row),
// then lets the connection answer `ack`. A payer owes bytes x the bid its connection was accepted
// at (daemon/btt_pay/PROTOCOL.md). Upload priority by bid is the plugin's (scheduler.h).
//
// Payer side (payments.pay): counts bytes received from each authenticated provider that sells,
// priced as they arrive at the bid the connection pays (never above payments.max_price_per_gib),
// and issues a voucher for them, never above payments.budget, every 1 MiB or 2 s. Each new
// cumulative is committed to ledger.db before the connection sends it; a voucher not acknowledged
// is sent again.
//
// Threads: every method except load()/attach()/detach() runs on libtorrent's network thread, so
// the state needs no lock. Ledger commits complete on the writer thread and are posted back to
// the network thread through the session's io_context (never after detach()).
#pragma once

#include "daemon/base/events.h"
#include "daemon/base/payment_figures.h"
#include "daemon/btt_pay/identity.h"
#include "ledger/ledger.h"
#include "ledger/tron/voucher.h"

#include <array>
#include <atomic>
#include <chrono>
#include <deque>
#include <libtorrent/session.hpp>
#include <mutex>
#include <optional>
#include <set>

namespace seedbox::daemon {

struct PaymentTerms {
    bool accept = true;
    bool require = false;
    bool pay = false;
    tron::Uint256 price = 0; // what we charge per GiB uploaded
    tron::Uint256 bid = 0;   // payer: our opening bid per GiB; 0 = none (pay the provider's price)
    tron::Uint256 credit_line = 0;
    tron::Uint256 max_price = 0;
    tron::Uint256 budget = 0;
    bool local_peers_unthrottled = true; // keep libtorrent's "local" class for LAN/loopback
    std::int64_t credit_window = 86400;  // seconds an anonymous peer's unpaid uploads count
};

// How a connection is named in Payments' per-peer view: what the plugin and torrent.peers share.
inline std::string endpoint_key(lt::tcp::endpoint const& ep)
{
    return ep.address().to_string() + " " + std::to_string(ep.port());
}

class Payments : public std::enable_shared_from_this<Payments> {
public:
    using Publish = std::function<void(EventPayload payload)>;

    Payments(ledger::Ledger& ledger, std::shared_ptr<PayIdentity const> identity,
             PaymentTerms terms, Publish publish);

    // Start-up, before the session runs: balances and vouchers from ledger.db.
    void load(ledger::Balances balances);
    // Io thread, once the session exists: installs the peer-class filter and, when we accept
    // payments, hands choking to the plugin's upload scheduler.
    void attach(lt::session_handle session);
    // Without a session (unit tests): completions are posted to `ctx`; no peer classes.
    void attach(lt::io_context& ctx);
    // Io thread, before the session is destroyed: nothing is posted into it afterwards.
    void detach();

    [[nodiscard]] PayIdentity const& identity() const { return *identity_; }
    [[nodiscard]] PaymentTerms const& terms() const { return terms_; }

    // ---- provider side ----
    // Bytes we uploaded to an authenticated peer, at `rate` per GiB (its accepted bid, else our
    // price): the live estimate of what it owes.
    void uploaded(tron::Address const& payer, std::int64_t bytes, tron::Uint256 const& rate);
    [[nodiscard]] tron::Uint256 owed(tron::Address const& payer) const; // credits accrued
    [[nodiscard]] bool over_credit_line(tron::Address const& payer) const;
    // Payers seen from one IP also share one line: addresses cost nothing to make, so a peer that
    // offers to pay from a fresh address on every connection must not get a fresh line each time.
    // `join` records that `payer` connected from `ip` (network thread); a payer is over the line
    // when its own unpaid balance, or the sum over its IP's payers, is above it. An IP keeps at
    // most kMaxPayersPerIp addresses; one more from it gets no credit. At most kMaxPayerIps IPs
    // are kept (the oldest first out); not persisted: after a restart each address starts with
    // its own balance from ledger.db and rejoins as it connects.
    static constexpr std::size_t kMaxPayersPerIp = 16;
    static constexpr std::size_t kMaxPayerIps = 1 << 16;
    void join(std::string const& ip, tron::Address const& payer);
    [[nodiscard]] bool over_credit_line(tron::Address const& payer, std::string const& ip) const;
    // The larger of the payer's own unpaid balance and its IP's (what the line is checked on).
    [[nodiscard]] tron::Uint256 unpaid(tron::Address const& payer, std::string const& ip) const;
    // An anonymous peer (no proven address): its uploads count per (torrent, IP) across
    // connections, from its first byte for terms().credit_window seconds, against the credit line
    // at our price. Kept for at most kMaxFreeUse counterparties (the oldest windows go first).
    void uploaded_free(std::string const& torrent, std::string const& ip, std::int64_t bytes);
    [[nodiscard]] bool over_credit_line(std::string const& torrent, std::string const& ip);
    [[nodiscard]] std::int64_t free_bytes(std::string const& torrent, std::string const& ip);
    static constexpr std::size_t kMaxFreeUse = 1 << 16;

    // Called with an empty reason and the kept cumulative once the voucher is committed, or at once
    // with the reason it was rejected. Runs on the network thread.
    using Reply = std::function<void(std::string const& reason, tron::Uint256 const& kept)>;
    // `bid`: what the connection's bytes are priced at, kept with the voucher.
    void receive(tron::Address const& payer, std::string_view cumulative, tron::ByteView signature,
                 std::string const& torrent, tron::Uint256 const& bid, Reply reply);

    // What torrent.peers shows of a connection: "paid" (a payer within its line), "free" or
    // "over_credit_line", and the unpaid balance it counts against (base units). The network
    // thread writes once a second per connection; any thread reads.
    struct PeerPayment {
        std::string state;
        tron::Uint256 unpaid = 0;
        std::optional<tron::Uint256> bid; // the accepted bid of a paying peer
    };
    void set_peer_payment(std::string const& torrent, std::string const& endpoint,
                          PeerPayment view);
    void forget_peer_payment(std::string const& torrent, std::string const& endpoint);
    [[nodiscard]] std::optional<PeerPayment> peer_payment(std::string const& torrent,
                                                          std::string const& endpoint) const;
    // Payload bytes uploaded, by the payment class of the connection when it was sent (the class
    // a connection shows in torrent.peers), and connections by class now. Any thread.
    enum class PayClass { paid = 0, free = 1, over_credit_line = 2 };
    static constexpr char const* kClassNames[] = {"paid", "free", "over_credit_line"};
    void count_upload(PayClass c, std::int64_t bytes)
    {
        uploaded_by_class_[static_cast<std::size_t>(c)].fetch_add(bytes, std::memory_order_relaxed);
    }
    [[nodiscard]] PaymentFigures class_figures() const;
    // The session's upload limit in bytes per second (0 = none), for the upload scheduler: the
    // engine sets it whenever it hands libtorrent the setting. Any thread.
    void set_upload_limit(std::int64_t bytes_per_second)
    {
        upload_limit_.store(bytes_per_second, std::memory_order_relaxed);
    }
    [[nodiscard]] std::int64_t upload_limit() const
    {
        return upload_limit_.load(std::memory_order_relaxed);
    }
    // Whether the upload scheduler is holding peers by bid now (the limit binds, payers wait).
    void set_by_bid(bool on) { by_bid_.store(on, std::memory_order_relaxed); }
    // A payer's credits not yet covered by the voucher kept.
    [[nodiscard]] tron::Uint256 unpaid(tron::Address const& payer) const;
    // A free peer's uploads within its window, priced.
    [[nodiscard]] tron::Uint256 unpaid(std::string const& torrent, std::string const& ip);

    // ---- payer side ----
    // Bytes received from a provider we pay, priced now at `bid` per GiB.
    void downloaded(tron::Address const& provider, std::int64_t bytes, tron::Uint256 const& bid);
    using Send = std::function<void(tron::Uint256 const& cumulative, tron::Signature const& sig)>;
    // Issues a voucher when one is due (or `force`): signs, commits, then calls `send` on the
    // network thread. A voucher not yet acknowledged is offered to `send` again every 5 s.
    void maybe_issue(tron::Address const& provider, std::string const& torrent, bool force,
                     Send send);
    void acked(tron::Address const& provider, tron::Uint256 const& cumulative);
    // Everything received from `provider` is paid for and acknowledged.
    [[nodiscard]] bool settled(tron::Address const& provider) const;
    // The connections we pay on, by torrent and rate (network thread): a payer prefers the
    // cheapest provider of a torrent, so it does not raise its bid to a provider that refused it
    // while another provider of that torrent serves it at a lower rate (PROTOCOL.md, payer policy).
    void start_paying(std::string const& torrent, tron::Uint256 const& rate);
    void stop_paying(std::string const& torrent, tron::Uint256 const& rate);
    [[nodiscard]] std::optional<tron::Uint256> cheapest_paid(std::string const& torrent) const;

private:
    struct Payer {
        tron::Uint256 accrued = 0; // credits: ledger at start-up + live uploads since
        tron::Uint256 carry = 0;
        tron::Uint256 kept = 0;    // highest voucher committed
        tron::Uint256 pending = 0; // highest voucher being committed
    };
    struct Provider {
        ledger::Issued issued;
        // The newest voucher on disk: the only one ever sent.
        std::optional<std::pair<tron::Uint256, tron::Signature>> saved;
        std::int64_t unvouchered = 0; // bytes received not yet paid for
        tron::Uint256 owed = 0;       // ... and what they come to (carry in issued.carry)
        tron::Uint256 bid = 0;        // the rate of the newest of them
        bool in_flight = false;       // a voucher is being committed
        std::chrono::steady_clock::time_point last_issue{};
        std::chrono::steady_clock::time_point last_send{};
    };

    using FreeKey = std::pair<std::string, std::string>; // (torrent, IP)
    // The entry of `key` with its window restarted when it has run out; null if there is none.
    ledger::FreeUse* free_use(FreeKey const& key, std::int64_t now);
    void post(std::function<void()> fn);
    void apply_filter();

    ledger::Ledger& ledger_;
    std::shared_ptr<PayIdentity const> identity_;
    PaymentTerms terms_;
    Publish publish_;
    tron::VoucherSigner signer_;

    std::map<tron::Address, Payer> payers_;
    std::map<tron::Address, Provider> providers_;
    std::map<std::string, std::multiset<tron::Uint256>> paying_; // torrent -> rates we pay at
    std::map<FreeKey, ledger::FreeUse> free_use_;
    std::map<std::string, std::vector<tron::Address>> payers_by_ip_;
    std::deque<std::string> payer_ips_; // payers_by_ip_'s keys, oldest first
    tron::Uint256 spent_ = 0;           // sum of every cumulative we issued
    bool budget_warned_ = false;

    std::array<std::atomic<std::int64_t>, 3> uploaded_by_class_{};
    std::atomic<std::int64_t> upload_limit_{0};
    std::atomic<bool> by_bid_{false};
    mutable std::mutex views_mutex_; // guards views_ (torrent.peers reads it from RPC workers)
    std::map<std::pair<std::string, std::string>, PeerPayment> views_;

    std::mutex session_mutex_; // guards session_/ctx_ against detach() from the io thread
    std::optional<lt::session_handle> session_;
    lt::io_context* ctx_ = nullptr;
};

} // namespace seedbox::daemon
