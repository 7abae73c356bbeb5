// Settlement (design.md §7): turns kept vouchers into claimBatch transactions on the claim hub.
//
// A batch picks up to settlement.max_claims payers whose kept voucher is above what is already
// covered (paid on chain, or carried by a pending batch), builds one TriggerSmartContract
// claimBatch(address[],uint256[],bytes[]) from our address to the hub, signs it, and stores the
// batch, its claims and the signed bytes in ONE ledger transaction before anything else happens.
//
// Modes: `offline` (default) needs no network: batches are built on settlement.run with the
// reference block the caller read from a node (/walletsolidity/getnowblock), and their signed hex
// is served by settlement.batches for another tool to broadcast.
//
// Threads: every method may block on the ledger's writer; call from RPC worker threads, never
// from the io thread.
#pragma once

#include "config/settings.h"
#include "daemon/errors.h"
#include "daemon/events.h"
#include "ledger/settlement_store.h"
#include "ledger/tron/keys.h"

#include <mutex>

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
    // `key` may be null (no wallet): every call then fails with a clear error.
    Settlement(config::Config const& cfg, ledger::Ledger& ledger,
               std::optional<tron::PrivateKey> key, EventHub& events);

    [[nodiscard]] nlohmann::json status();
    // Builds (and in broadcast mode, sends) one batch now. `reference` is required offline.
    [[nodiscard]] Result<nlohmann::json> run(std::optional<ReferenceBlock> const& reference);
    [[nodiscard]] nlohmann::json batches(std::int64_t limit, std::int64_t before,
                                         std::string const& state);
    [[nodiscard]] Result<nlohmann::json> batch(std::int64_t id);

    // Exposed for tests: the claimBatch calldata and signed transaction for `claims`.
    [[nodiscard]] Result<ledger::Batch> build(std::vector<ledger::Claim> claims,
                                              ReferenceBlock const& ref,
                                              std::int64_t energy_estimate);

private:
    void publish(ledger::Batch const& b, std::string const& from);

    config::Config const& cfg_;
    ledger::SettlementStore store_;
    std::optional<tron::PrivateKey> key_;
    std::optional<tron::Address> hub_;
    std::string hub_error_;
    EventHub& events_;
    std::mutex run_mutex_; // one build at a time, so two runs never pick the same claims
    std::int64_t last_run_ = 0;
    std::string last_error_;
};

} // namespace seedbox::daemon
