// Settlement (design.md §7): turns kept vouchers into claimBatch transactions on the claim hub.
//
// A batch picks up to settlement.max_claims payers whose kept voucher is above what is already
// covered (paid on chain, or carried by a pending batch), builds one TriggerSmartContract
// claimBatch(address[],uint256[],bytes[]) from our address to the hub, signs it, and stores the
// batch, its claims and the signed bytes in ONE ledger transaction before anything else happens.
//
// Modes: `offline` (default) needs no network: batches are built on settlement.run with the
// reference block the caller read from a node (/walletsolidity/getnowblock), and their signed hex
// is served by settlement.batches for another tool to broadcast. `broadcast` also runs a worker
// thread that builds batches every settlement.interval (when claimable >= min_batch_amount) and
// moves each batch along: built -> broadcast (the stored bytes, re-sent until seen; DUP counts as
// accepted) -> included -> final (solidity node shows receipt SUCCESS; Claimed/Skipped logs settle
// each claim) or reverted; a batch whose expiration is older than the solidified head and that
// neither endpoint knows is expired. Reverted and expired batches return their claims.
//
// Threads: every public method may block on the ledger's writer; run() in broadcast mode and
// the wallet calls also wait for the node and the chain (wallet.deposit up to
// settlement.expiration + 30 s), so the RPC runs those on its slow pool. Never the io thread.
#pragma once

#include "config/settings.h"
#include "daemon/base/errors.h"
#include "daemon/base/events.h"
#include "daemon/settlement/node.h"
#include "ledger/settlement_store.h"
#include "ledger/tron/keys.h"
#include "ledger/tron/transaction.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace seedbox::daemon {

// The TaPoS reference a batch is built on: a (preferably solidified) block.
struct ReferenceBlock {
    std::int64_t number = 0;
    std::string id;             // 64 hex digits; the first 16 are the block number
    std::int64_t timestamp = 0; // Unix ms
};

// Energy one claim costs the hub, measured in tests/tron/test/hub.test.js (31.8k for a
// first-time pair); used when no node can estimate.
inline constexpr std::int64_t kEnergyPerClaim = 40'000;
inline constexpr std::int64_t kEnergyPriceSun = 100; // sun per energy (chain parameter #11)

class Settlement {
public:
    // `key` may be null (no wallet): every call then fails with a clear error. `transport` is
    // required in broadcast mode.
    Settlement(config::Config const& cfg, ledger::Ledger& ledger,
               std::optional<tron::PrivateKey> key, EventHub& events, NodeTransport transport = {});
    ~Settlement();

    // Broadcast mode: reconciles in-flight batches and paid[] from the chain, then runs the
    // worker. Offline: nothing to do.
    void start();
    void stop();

    [[nodiscard]] nlohmann::json status();
    // Builds (and in broadcast mode, queues for sending) one batch now. `reference` is required
    // offline and ignored in broadcast mode (the node's solidified head is used).
    [[nodiscard]] Result<nlohmann::json> run(std::optional<ReferenceBlock> const& reference);
    [[nodiscard]] nlohmann::json batches(std::int64_t limit, std::int64_t before,
                                         std::string const& state);
    [[nodiscard]] Result<nlohmann::json> batch(std::int64_t id);

    // Payer side (broadcast mode): TRX, token and hub deposit of our address; deposit `amount`
    // (approve + deposit, each waited for until included, both within one deadline); withdraw:
    // with an amount, request it (starts the hub's delay); without, complete the requested
    // withdrawal. A shutdown ends the waits with Errc::shutting_down.
    [[nodiscard]] Result<nlohmann::json> wallet_balance();
    [[nodiscard]] Result<nlohmann::json> deposit(tron::Uint256 const& amount);
    [[nodiscard]] Result<nlohmann::json> withdraw(std::optional<tron::Uint256> const& amount);

    // Exposed for tests: the claimBatch transaction for `claims`, referencing `ref` and expiring
    // settlement.expiration after `expiration_base` (Unix ms).
    [[nodiscard]] Result<ledger::Batch> build(std::vector<ledger::Claim> claims,
                                              ReferenceBlock const& ref,
                                              std::int64_t expiration_base,
                                              std::int64_t energy_estimate);

private:
    // Where a transaction built now stands: the solidified block it references and the head's
    // time its expiration counts from.
    struct Anchor {
        std::int64_t number = 0;
        tron::Hash32 id{};
        std::int64_t solid_time = 0;
        std::int64_t head_time = 0;
    };
    [[nodiscard]] Result<Anchor> anchor();
    // Signs a TriggerSmartContract from our address with fee_limit from `energy`.
    [[nodiscard]] std::pair<tron::SignedTransaction, tron::TxHeader>
    sign_call(tron::Address const& contract, tron::Bytes data, std::int64_t ref_number,
              tron::Hash32 const& ref_id, std::int64_t expiration_base, std::int64_t energy);
    [[nodiscard]] Result<ledger::Batch> build_from_node(std::vector<ledger::Claim> claims);
    [[nodiscard]] Result<nlohmann::json> run_locked(std::optional<ReferenceBlock> const& ref);
    void loop();
    void round(); // one pass of the worker: pending batches, then a run when one is due
    void advance(ledger::Batch b);
    void send(ledger::Batch& b);
    [[nodiscard]] bool proven_expired(ledger::Batch const& b);
    void finish(ledger::Batch b, TxInfo const& info);
    void reconcile_paid();
    void move(ledger::Batch b, std::string const& state,
              std::vector<ledger::ClaimOutcome> const& outcomes = {});
    void publish(ledger::Batch const& b, std::string const& from);
    using Deadline = std::chrono::steady_clock::time_point;
    // Signs and sends a call from our address, then waits until it is included or `deadline`.
    [[nodiscard]] Result<nlohmann::json> send_call(tron::Address const& contract, tron::Bytes data,
                                                   std::string const& what, Deadline deadline);
    [[nodiscard]] Deadline call_deadline() const;
    [[nodiscard]] std::string unavailable() const;

    config::Config const& cfg_;
    ledger::SettlementStore store_;
    std::optional<tron::PrivateKey> key_;
    std::optional<tron::Address> hub_;
    std::optional<tron::Address> token_;
    std::string hub_error_;
    EventHub& events_;
    std::optional<Node> node_;
    std::mutex run_mutex_; // one build at a time, so two runs never pick the same claims
    std::mutex mutex_;     // guards the fields below
    std::condition_variable cv_;
    bool stopping_ = false;
    bool wake_ = false;
    std::int64_t last_run_ = 0;
    std::int64_t next_run_ = 0;
    std::int64_t last_check_ = 0; // last automatic check (Unix s)
    std::string last_error_;
    std::map<std::int64_t, std::int64_t> last_send_; // batch id -> ms of the last broadcast
    std::atomic<std::int64_t> energy_price_{kEnergyPriceSun}; // sun per energy, from the chain
    std::atomic<std::int64_t> max_fee_limit_{15'000'000'000}; // sun, getMaxFeeLimit
    std::thread worker_;
};

// Test builds: SEEDBOX_FAULT_POINT=<name> makes the daemon kill itself (SIGKILL) when it reaches
// that point, so tests can crash it at each step of settlement.
void fault_point(char const* name);

} // namespace seedbox::daemon
