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
// The payer's side (wallet.*) is Wallet (wallet.h); both sign through our Account (account.h).
//
// Threads: every public method may block on the ledger's writer; run() in broadcast mode also
// waits for the node, so the RPC runs it on its slow pool. Never the io thread.
#pragma once

#include "config/settings.h"
#include "daemon/base/errors.h"
#include "daemon/base/events.h"
#include "daemon/settlement/account.h"
#include "daemon/settlement/wallet.h"
#include "ledger/settlement_store.h"

#include <condition_variable>
#include <map>
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

// What settlement.status reports. Times are Unix seconds, 0 = never; amounts are base units.
struct SettlementStatus {
    std::string mode; // the settlement.* settings in force
    std::int64_t chain_id = 0;
    std::int64_t max_claims = 0;
    std::string min_batch_amount;
    std::int64_t interval = 0;
    std::optional<std::string> hub;         // Base58Check, when payments.hub parses
    std::optional<std::string> owner;       // our address, when we have a key
    std::optional<std::string> unavailable; // why no batch can be built, when none can
    std::int64_t last_run = 0;
    std::int64_t last_check = 0;
    std::int64_t next_run = 0;
    std::string last_error;
    tron::Uint256 claimable = 0;                 // kept vouchers above what is paid or pending
    tron::Uint256 pending = 0;                   // in batches not yet final
    tron::Uint256 paid = 0;                      // paid on chain
    std::map<std::string, std::int64_t> batches; // count by state
};

// One page of batches, newest first; next_before continues it.
struct BatchPage {
    std::vector<ledger::Batch> batches;
    std::optional<std::int64_t> next_before;
};

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

    [[nodiscard]] SettlementStatus status();
    // Builds (and in broadcast mode, queues for sending) one batch now. `reference` is required
    // offline and ignored in broadcast mode (the node's solidified head is used).
    [[nodiscard]] Result<ledger::Batch> run(std::optional<ReferenceBlock> const& reference);
    [[nodiscard]] BatchPage batches(std::int64_t limit, std::int64_t before,
                                    std::string const& state);
    [[nodiscard]] Result<ledger::Batch> batch(std::int64_t id);

    // The payer side: TRX, token and hub deposit of our address; deposit and withdraw.
    [[nodiscard]] Wallet& wallet() { return wallet_; }

    // Exposed for tests: the claimBatch transaction for `claims`, referencing `ref` and expiring
    // settlement.expiration after `expiration_base` (Unix ms).
    [[nodiscard]] Result<ledger::Batch> build(std::vector<ledger::Claim> claims,
                                              ReferenceBlock const& ref,
                                              std::int64_t expiration_base,
                                              std::int64_t energy_estimate);

private:
    [[nodiscard]] Result<ledger::Batch> build_from_node(std::vector<ledger::Claim> claims);
    [[nodiscard]] Result<ledger::Batch> run_locked(std::optional<ReferenceBlock> const& ref);
    void loop();
    // One pass of the worker: pending batches, then a run when one is due. True while a batch
    // of ours waits on the chain (the worker looks again in 500 ms; otherwise it sleeps until the
    // next run is due or it is woken).
    bool round();
    void advance(ledger::Batch b);
    void send(ledger::Batch& b);
    [[nodiscard]] bool proven_expired(ledger::Batch const& b);
    void finish(ledger::Batch b, TxInfo const& info);
    void reconcile_paid();
    void move(ledger::Batch b, ledger::BatchState state,
              std::vector<ledger::ClaimOutcome> const& outcomes = {});
    void publish(ledger::Batch const& b, std::optional<ledger::BatchState> from);

    config::Config const& cfg_;
    ledger::SettlementStore store_;
    Account account_;
    Wallet wallet_;
    EventHub& events_;
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
    std::thread worker_;
};

// Test builds: SEEDBOX_FAULT_POINT=<name> makes the daemon kill itself (SIGKILL) when it reaches
// that point, so tests can crash it at each step of settlement.
void fault_point(char const* name);

} // namespace seedbox::daemon
