#include "daemon/payments_setup.h"

#include <spdlog/spdlog.h>

namespace seedbox::daemon {

std::optional<Amounts> payment_amounts(config::Config const& cfg)
{
    auto parse = [](std::string const& key, std::string const& v) {
        auto a = tron::parse_uint256(v);
        if (!a)
            spdlog::critical("{} is above 2^256 - 1", key);
        return a;
    };
    auto price = parse("payments.price_per_gib", cfg.payments.price_per_gib);
    if (!price)
        return std::nullopt;
    auto credit_line = parse("payments.credit_line", cfg.payments.credit_line);
    auto max_price = parse("payments.max_price_per_gib", cfg.payments.max_price_per_gib);
    auto budget = parse("payments.budget", cfg.payments.budget);
    auto bid = parse("payments.bid_per_gib", cfg.payments.bid_per_gib);
    if (!credit_line || !max_price || !budget || !bid)
        return std::nullopt;
    if (*bid > *max_price) {
        spdlog::critical("payments.bid_per_gib ({}) is above payments.max_price_per_gib ({})",
                         cfg.payments.bid_per_gib, cfg.payments.max_price_per_gib);
        return std::nullopt;
    }
    return Amounts{*price, *credit_line, *max_price, *budget, *bid};
}

bool make_payments(config::Config const& cfg, tron::PrivateKey const& key, ledger::Ledger& ledger,
                   Amounts const& a, EventHub& events, std::shared_ptr<Payments>& out)
{
    tron::Address hub;
    std::string why;
    if (!cfg.payments.hub.empty()) {
        auto parsed = tron::Address::parse(cfg.payments.hub, &why);
        if (!parsed) {
            spdlog::critical("payments.hub: {}", why);
            return false;
        }
        hub = *parsed;
    }
    auto identity = std::make_shared<PayIdentity const>(
        PayIdentity{key, key.address(), cfg.payments.chain_id, hub, cfg.payments.price_per_gib});
    PaymentTerms terms{cfg.payments.accept,
                       cfg.payments.require,
                       cfg.payments.pay,
                       a.price,
                       a.bid,
                       a.credit_line,
                       a.max_price,
                       a.budget,
                       cfg.bt.local_peers_unthrottled,
                       cfg.payments.credit_window};
    out = std::make_shared<Payments>(ledger, identity, terms, [&events](EventPayload payload) {
        events.publish(std::move(payload));
    });
    out->load(ledger.balances(cfg.payments.credit_window));
    return true;
}

} // namespace seedbox::daemon
