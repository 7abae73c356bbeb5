// The payer's wallet (broadcast mode): what our address holds on TRON, and the hub deposit that
// backs the vouchers we issue. Each call signs from our key, sends through the node and waits
// until the transaction is included or the call's deadline (settlement.expiration + 30 s) passes.
//
// Threads: every call blocks on the node and the chain, so the RPC runs them on its slow pool,
// never an RPC worker. stop() ends the waits with Errc::shutting_down.
#pragma once

#include "daemon/settlement/account.h"

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace seedbox::daemon {

// A transaction seen included in a block.
struct Included {
    std::string txid;
    std::int64_t block = 0;
    std::int64_t energy = 0;
    std::int64_t fee = 0; // sun
};

struct WalletBalance {
    std::string address;       // Base58Check
    std::int64_t trx = 0;      // sun
    tron::Uint256 btt = 0;     // base units of tron.token
    tron::Uint256 deposit = 0; // our deposit in the hub
    tron::Uint256 withdraw_requested = 0;
    tron::Uint256 withdraw_not_before = 0; // Unix s, as the hub stores it
};

struct Deposited {
    Included approve;
    Included deposit;
};

// One of the two: a withdrawal requested (with an amount) or completed (without).
struct Withdrawn {
    std::optional<Included> requested;
    std::optional<Included> withdrawn;
};

class Wallet {
public:
    Wallet(config::Config const& cfg, Account& account) : cfg_(cfg), account_(account) {}

    [[nodiscard]] Result<WalletBalance> balance();
    // approve + deposit, each waited for until included, both within one deadline.
    [[nodiscard]] Result<Deposited> deposit(tron::Uint256 const& amount);
    // With an amount: requestWithdraw (starts the hub's delay). Without: withdraw().
    [[nodiscard]] Result<Withdrawn> withdraw(std::optional<tron::Uint256> const& amount);
    void stop();

private:
    using Deadline = std::chrono::steady_clock::time_point;
    // Signs and sends a call from our address, then waits until it is included or `deadline`.
    [[nodiscard]] Result<Included> send_call(tron::Address const& contract, tron::Bytes data,
                                             std::string const& what, Deadline deadline);
    [[nodiscard]] Deadline call_deadline() const;

    config::Config const& cfg_;
    Account& account_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool stopping_ = false;
};

} // namespace seedbox::daemon
