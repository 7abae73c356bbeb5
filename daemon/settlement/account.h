// Our account on TRON as settlement and the wallet use it: the key, the claim hub and token we
// are configured with, the node we talk to (broadcast mode), and the chain's fee parameters.
// It signs TriggerSmartContract calls from our address and reads the TaPoS anchor; it holds no
// batch state. Thread-safe: the fee parameters are atomics, everything else is set once.
#pragma once

#include "config/settings.h"
#include "daemon/base/errors.h"
#include "daemon/settlement/node.h"
#include "ledger/tron/keys.h"
#include "ledger/tron/transaction.h"
#include "ledger/tron/uint256.h"

#include <atomic>
#include <optional>
#include <string>

namespace seedbox::daemon {

inline constexpr std::int64_t kEnergyPriceSun = 100; // sun per energy (chain parameter #11)

class Account {
public:
    // `key` may be null (no wallet); `transport` may be empty (offline: no node).
    Account(config::Config const& cfg, std::optional<tron::PrivateKey> key,
            NodeTransport transport);

    // Why nothing can be signed for the hub (no key, no hub), or empty when it can.
    [[nodiscard]] std::string unavailable() const;
    // The message for a call that needs a node in offline mode.
    static constexpr char const* kNeedsNode =
        "this needs settlement.mode=broadcast and tron.node_url";

    [[nodiscard]] tron::PrivateKey const* key() const { return key_ ? &*key_ : nullptr; }
    [[nodiscard]] std::optional<tron::Address> const& hub() const { return hub_; }
    [[nodiscard]] std::string const& hub_error() const { return hub_error_; }
    [[nodiscard]] std::optional<tron::Address> const& token() const { return token_; }
    [[nodiscard]] Node* node() { return node_ ? &*node_ : nullptr; }

    // Where a transaction built now stands: the solidified block it references and the head's
    // time its expiration counts from. Needs the node.
    struct Anchor {
        std::int64_t number = 0;
        tron::Hash32 id{};
        std::int64_t solid_time = 0;
        std::int64_t head_time = 0;
    };
    [[nodiscard]] Result<Anchor> anchor();
    // Reads getEnergyFee and getMaxFeeLimit from the node; later fee limits use them.
    [[nodiscard]] Status read_fee_parameters();
    // Signs a TriggerSmartContract from our address (a key is required) with a fee_limit from
    // `energy`, the chain's energy price, settlement.fee_margin_percent and the caps.
    [[nodiscard]] std::pair<tron::SignedTransaction, tron::TxHeader>
    sign_call(tron::Address const& contract, tron::Bytes data, std::int64_t ref_number,
              tron::Hash32 const& ref_id, std::int64_t expiration_base, std::int64_t energy) const;

private:
    config::Config const& cfg_;
    std::optional<tron::PrivateKey> key_;
    std::optional<tron::Address> hub_;
    std::optional<tron::Address> token_;
    std::string hub_error_;
    std::optional<Node> node_;
    std::atomic<std::int64_t> energy_price_{kEnergyPriceSun}; // sun per energy, from the chain
    std::atomic<std::int64_t> max_fee_limit_{15'000'000'000}; // sun, getMaxFeeLimit
};

// Unix time in milliseconds (the unit of TRON timestamps).
[[nodiscard]] std::int64_t unix_ms();

} // namespace seedbox::daemon
