// Settlement's rows in ledger.db (design.md §7): batches with their claims and signed bytes, and
// the hub's paid[payer][us] as last reconciled. A batch is inserted whole, in one transaction,
// before anything is broadcast; state changes only move forward.
//
// What is claimable: for each payer whose voucher we keep (for our hub and chain), the kept
// cumulative above what is "covered" = max(paid on chain, cumulative of any batch still pending:
// built, broadcast or included; an offline batch only until its expiration). Final, reverted and
// expired batches cover nothing beyond what the chain says was paid, so a partial payment or a
// revert leaves the rest claimable.
//
// Threads: writes go through the ledger's writer thread (blocking the caller until committed),
// reads through its read connection. Never call from the io thread.
#pragma once

#include "ledger/ledger.h"

#include <optional>
#include <string_view>

namespace seedbox::ledger {

struct Claim {
    std::string payer; // Base58
    tron::Uint256 cumulative = 0;
    std::string signature;           // hex, 65 bytes
    tron::Uint256 previous = 0;      // covered when the batch was built
    std::string outcome = "pending"; // pending | claimed | skipped:<reason> | returned
    tron::Uint256 paid = 0;          // what the hub paid for this entry
};

// A batch's state; it only moves forward: built -> broadcast -> included -> final, or to
// reverted or expired from any pending state. Stored and reported by name.
enum class BatchState { built, broadcast, included, final, reverted, expired };
[[nodiscard]] char const* name(BatchState s);
[[nodiscard]] std::optional<BatchState> parse_batch_state(std::string_view name);

struct Batch {
    std::int64_t id = 0;
    BatchState state = BatchState::built;
    std::string mode; // offline | broadcast
    std::string txid;
    std::string raw_data_hex;
    std::string signature; // hex
    std::string signed_hex;
    std::string owner; // Base58, the provider (us)
    std::string hub;
    std::int64_t chain_id = 0;
    std::int64_t ref_number = 0;
    std::string ref_hash;        // block id hex
    std::int64_t expiration = 0; // Unix ms
    std::int64_t fee_limit = 0;  // sun
    std::int64_t energy_estimate = 0;
    std::int64_t created = 0;
    std::int64_t updated = 0;
    std::int64_t broadcasts = 0;
    std::optional<std::int64_t> block;
    std::optional<std::int64_t> energy;
    std::optional<std::int64_t> fee;
    std::string error;
    std::vector<Claim> claims;

    [[nodiscard]] tron::Uint256 total() const; // sum of cumulative - previous
    [[nodiscard]] tron::Uint256 paid() const;  // sum of what the hub paid
    // Every state's name, in BatchState order (settlement.batches' filter and /metrics).
    [[nodiscard]] static std::vector<std::string> const& states();
    [[nodiscard]] bool pending() const
    {
        return state == BatchState::built || state == BatchState::broadcast ||
               state == BatchState::included;
    }
};

// A hub event for one entry, as read from the transaction's logs.
struct ClaimOutcome {
    std::string payer;
    tron::Uint256 cumulative = 0;
    bool claimed = false;
    tron::Uint256 amount = 0;     // Claimed
    tron::Uint256 paid_total = 0; // Claimed: paid[payer][us] after it
    int reason = 0;               // Skipped
};

class SettlementStore {
public:
    explicit SettlementStore(Ledger& ledger) : ledger_(ledger) {}

    // Payers with something claimable, largest first, at most `max`.
    [[nodiscard]] std::vector<Claim> candidates(std::string const& hub, std::int64_t chain_id,
                                                std::size_t max);
    [[nodiscard]] tron::Uint256 claimable(std::string const& hub, std::int64_t chain_id);

    // Inserts the batch and its claims in one transaction; sets b.id. Error or empty.
    [[nodiscard]] std::string insert(Batch& b);
    // Moves a pending batch to `state` (only forward), recording the given fields. A terminal
    // state (final, reverted, expired) also settles the claims: `outcomes` (final) set each
    // claim's outcome and raise settlement_paid; reverted and expired mark them 'returned'.
    [[nodiscard]] std::string transition(Batch const& updated,
                                         std::vector<ClaimOutcome> const& outcomes = {});
    // Counts one more broadcast of the stored bytes.
    [[nodiscard]] std::string count_broadcast(std::int64_t id);
    // Raises settlement_paid[payer] to `paid` (from the chain); never lowers it.
    [[nodiscard]] std::string raise_paid(std::string const& payer, tron::Uint256 const& paid);

    [[nodiscard]] std::optional<Batch> get(std::int64_t id);
    [[nodiscard]] std::vector<Batch> pending();
    // Newest first; `state` empty = all; `before` = 0 for the first page.
    [[nodiscard]] std::vector<Batch> list(std::int64_t limit, std::int64_t before,
                                          std::string const& state);
    [[nodiscard]] std::map<std::string, tron::Uint256> paid();
    [[nodiscard]] std::map<std::string, std::int64_t> counts(); // batches by state

private:
    Ledger& ledger_;
};

} // namespace seedbox::ledger
