// btt_pay's payments as the configuration asks for them: the payments.* amounts checked, and
// the Payments object with its identity, terms and event publisher. Used by run_app.
#pragma once

#include "config/settings.h"
#include "daemon/base/events.h"
#include "daemon/btt_pay/payments.h"
#include "ledger/ledger.h"

#include <memory>
#include <optional>

namespace seedbox::daemon {

// The payments.* amounts, each within 256 bits, and a bid no higher than max_price_per_gib.
struct Amounts {
    tron::Uint256 price, credit_line, max_price, budget, bid;
};

// nullopt after logging which amount is out of range.
[[nodiscard]] std::optional<Amounts> payment_amounts(config::Config const& cfg);

// btt_pay's payments, with a key and ledger accounting. False after logging why they cannot be
// made (payments.hub is not an address).
[[nodiscard]] bool make_payments(config::Config const& cfg, tron::PrivateKey const& key,
                                 ledger::Ledger& ledger, Amounts const& a, EventHub& events,
                                 std::shared_ptr<Payments>& out);

} // namespace seedbox::daemon
