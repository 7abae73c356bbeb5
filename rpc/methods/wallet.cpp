// wallet.*: the node's TRON identity.
#include "daemon/settlement/settlement.h"
#include "rpc/method.h"
#include "rpc/schema.h"

namespace seedbox::rpc {

namespace {

daemon::Wallet& wallet_of(Call& c)
{
    return settlement_of(c).wallet();
}

// A transaction included on chain.
json included_schema()
{
    using namespace schema;
    return object(
        {{"txid", string()}, {"block", integer()}, {"energy", integer()}, {"fee", integer()}});
}

json included_json(daemon::Included const& i)
{
    return {{"txid", i.txid}, {"block", i.block}, {"energy", i.energy}, {"fee", i.fee}};
}

json balance_json(daemon::WalletBalance const& b)
{
    return {{"address", b.address},
            {"trx", b.trx},
            {"btt", tron::to_decimal(b.btt)},
            {"deposit", tron::to_decimal(b.deposit)},
            {"withdraw_requested", tron::to_decimal(b.withdraw_requested)},
            {"withdraw_not_before", tron::to_decimal(b.withdraw_not_before)}};
}

} // namespace

// The wallet.* methods. Long because it is a table: one entry per method.
void add_wallet_methods(MethodTable& t)
{
    using namespace schema;
    t.push_back({.name = "wallet.address",
                 .summary = "The node's TRON address (Base58Check and hex).",
                 .mutates = false,
                 .params = {},
                 .result = object({{"address", string()}, {"hex", string()}}),
                 .handler = [](Call& c) {
                     auto const& w = c.ctx().wallet;
                     if (!w)
                         throw RpcError(Err::no_wallet,
                                        "this node has no TRON key: provide tron.key_file or set "
                                        "tron.generate_key=true");
                     return json{{"address", w->base58()}, {"hex", w->hex()}};
                 }});
    auto amount_of = [](Call& c) -> std::optional<tron::Uint256> {
        if (!c.has("amount"))
            return std::nullopt;
        auto v = tron::parse_uint256(c.arg<std::string>("amount"));
        if (!v)
            throw RpcError(Err::invalid_params,
                           "Invalid params: amount must be a decimal string of base units");
        return v;
    };
    t.push_back({.name = "wallet.balance",
                 .summary =
                     "TRX (sun), BTT and hub deposit (base units) of the node's address, read from "
                     "the TRON node (settlement.mode=broadcast).",
                 .mutates = false,
                 .params = {},
                 .result = object({{"address", string()},
                                   {"trx", integer()},
                                   {"btt", amount()},
                                   {"deposit", amount()},
                                   {"withdraw_requested", amount()},
                                   {"withdraw_not_before", amount()}}),
                 .handler = [](Call& c) { return balance_json(unwrap(wallet_of(c).balance())); },
                 .websocket_only = false,
                 .public_method = false,
                 .runs = Runs::slow});
    t.push_back({.name = "wallet.deposit",
                 .summary =
                     "Deposits BTT in the claim hub (approve, then deposit; each waited for until "
                     "included, within settlement.expiration + 30 s) so peers we pay can claim our "
                     "vouchers. Answers once both are included; runs off the RPC workers.",
                 .mutates = true,
                 .params = {{"amount", Type::string, true, "base units, decimal string"}},
                 .result = object({{"approve", included_schema()}, {"deposit", included_schema()}}),
                 .handler =
                     [amount_of](Call& c) {
                         auto d = unwrap(wallet_of(c).deposit(*amount_of(c)));
                         return json{{"approve", included_json(d.approve)},
                                     {"deposit", included_json(d.deposit)}};
                     },
                 .websocket_only = false,
                 .public_method = false,
                 .runs = Runs::slow});
    t.push_back(
        {.name = "wallet.withdraw",
         .summary = "With an amount: asks the hub to release that much of our deposit (starts its "
                    "delay). Without: completes the requested withdrawal once the delay is over.",
         .mutates = true,
         .params = {{"amount", Type::string, false, "base units, decimal string"}},
         .result = object({}, {{"requested", included_schema()}, {"withdrawn", included_schema()}}),
         .handler =
             [amount_of](Call& c) {
                 auto w = unwrap(wallet_of(c).withdraw(amount_of(c)));
                 json out = json::object();
                 if (w.requested)
                     out["requested"] = included_json(*w.requested);
                 if (w.withdrawn)
                     out["withdrawn"] = included_json(*w.withdrawn);
                 return out;
             },
         .websocket_only = false,
         .public_method = false,
         .runs = Runs::slow});
}

} // namespace seedbox::rpc
