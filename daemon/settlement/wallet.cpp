// The payer's wallet: balance, hub deposit and withdrawal of our address.
#include "daemon/settlement/wallet.h"

#include "ledger/tron/abi.h"

#include <algorithm>
#include <climits>
#include <spdlog/spdlog.h>
#include <tuple>

namespace seedbox::daemon {

using tron::Uint256;

void Wallet::stop()
{
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    cv_.notify_all();
}

Result<Included> Wallet::send_call(tron::Address const& contract, tron::Bytes data,
                                   std::string const& what, Deadline deadline)
{
    auto* node = account_.node();
    if (!node)
        return make_error(Errc::settlement_unavailable, Account::kNeedsNode);
    auto const me = account_.key()->address();
    auto est = node->constant_call(me, contract, data);
    if (!est)
        return est.error();
    if (!est.value().ok)
        return make_error(Errc::node_failed, what + " would fail: " + est.value().message);
    auto at = account_.anchor();
    if (!at)
        return at.error();
    // A margin of 10,000 energy over the dry run: approve and deposit touch fresh slots.
    auto [tx, h] = account_.sign_call(
        contract, std::move(data), at.value().number, at.value().id, at.value().head_time,
        std::clamp<std::int64_t>(est.value().energy_used, 0, INT64_MAX - 10'000) + 10'000);
    auto txid = tron::to_hex(tx.id);
    auto r = node->broadcast_hex(tron::to_hex(tx.encoded));
    if (!r)
        return r.error();
    if (!r.value().accepted)
        return make_error(Errc::node_failed, what + " refused by the node: " + r.value().code +
                                                 " " + r.value().message);
    while (std::chrono::steady_clock::now() < deadline) {
        auto info = node->tx_info(txid, false);
        if (info && info.value().found && info.value().block > 0) {
            auto const& i = info.value();
            if (i.receipt_result != "SUCCESS" || i.failed)
                return make_error(Errc::node_failed, what + " failed on chain (" + txid + "): " +
                                                         i.receipt_result + " " + i.message);
            return Included{txid, i.block, i.energy, i.fee};
        }
        // Polled on a slow-pool thread, never an RPC worker; a shutdown ends the wait.
        std::unique_lock lock(mutex_);
        if (cv_.wait_for(lock, std::chrono::milliseconds(300), [this] { return stopping_; }))
            return make_error(Errc::shutting_down, what + " (" + txid +
                                                       ") was sent; the daemon is shutting down "
                                                       "before it was seen included");
    }
    return make_error(Errc::node_failed, what + " (" + txid +
                                             ") was not seen included before the "
                                             "call's deadline; check it with wallet.balance");
}

Wallet::Deadline Wallet::call_deadline() const
{
    // One deadline for a whole wallet call (deposit's approve and deposit together): the time a
    // transaction stays valid, plus room for its solidification.
    return std::chrono::steady_clock::now() + std::chrono::seconds(cfg_.settlement.expiration + 30);
}

Result<WalletBalance> Wallet::balance()
{
    if (auto why = account_.unavailable(); !why.empty())
        return make_error(Errc::settlement_unavailable, why);
    auto* node = account_.node();
    if (!node)
        return make_error(Errc::settlement_unavailable, Account::kNeedsNode);
    auto const me = account_.key()->address();
    auto trx = node->trx_balance(me);
    if (!trx)
        return trx.error();
    auto read = [&](tron::Address const& c, std::string const& sig) -> Result<Uint256> {
        auto r = node->constant_call(me, c, tron::abi_call(sig, {me}));
        if (!r)
            return r.error();
        if (!r.value().ok)
            return make_error(Errc::node_failed, sig + ": " + r.value().message);
        return tron::AbiReader(r.value().result).uint(0).value_or(0);
    };
    auto const& token = account_.token();
    auto const& hub = *account_.hub();
    if (!token)
        return make_error(Errc::settlement_unavailable, "tron.token is not a TRON address");
    WalletBalance out;
    out.address = me.base58();
    out.trx = trx.value();
    for (auto [contract, sig, field] :
         {std::tuple{&*token, "balanceOf(address)", &out.btt},
          std::tuple{&hub, "deposits(address)", &out.deposit},
          std::tuple{&hub, "withdrawAmount(address)", &out.withdraw_requested},
          std::tuple{&hub, "withdrawNotBefore(address)", &out.withdraw_not_before}}) {
        auto v = read(*contract, sig);
        if (!v)
            return v.error();
        *field = v.value();
    }
    return out;
}

Result<Deposited> Wallet::deposit(Uint256 const& amount)
{
    if (auto why = account_.unavailable(); !why.empty())
        return make_error(Errc::settlement_unavailable, why);
    if (amount == 0)
        return make_error(Errc::invalid_argument, "amount must be above 0");
    auto const& token = account_.token();
    auto const& hub = *account_.hub();
    if (!token)
        return make_error(Errc::settlement_unavailable, "tron.token is not a TRON address");
    auto const deadline = call_deadline();
    auto approve = send_call(*token, tron::abi_call("approve(address,uint256)", {hub, amount}),
                             "approve", deadline);
    if (!approve)
        return approve.error();
    auto dep = send_call(hub, tron::abi_call("deposit(uint256)", {amount}), "deposit", deadline);
    if (!dep)
        return dep.error();
    spdlog::info("wallet: deposited {} base units in the hub ({})", tron::to_decimal(amount),
                 dep.value().txid);
    return Deposited{approve.value(), dep.value()};
}

Result<Withdrawn> Wallet::withdraw(std::optional<Uint256> const& amount)
{
    if (auto why = account_.unavailable(); !why.empty())
        return make_error(Errc::settlement_unavailable, why);
    auto const& hub = *account_.hub();
    if (amount) {
        if (*amount == 0)
            return make_error(Errc::invalid_argument, "amount must be above 0");
        auto r = send_call(hub, tron::abi_call("requestWithdraw(uint256)", {*amount}),
                           "requestWithdraw", call_deadline());
        if (!r)
            return r.error();
        return Withdrawn{r.value(), std::nullopt};
    }
    auto r = send_call(hub, tron::abi_call("withdraw()", {}), "withdraw", call_deadline());
    if (!r)
        return r.error();
    return Withdrawn{std::nullopt, r.value()};
}

} // namespace seedbox::daemon
