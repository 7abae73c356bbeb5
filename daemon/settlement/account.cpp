// Our TRON account: key, hub, token, node, and the signing of calls from our address.
#include "daemon/settlement/account.h"

#include <algorithm>
#include <chrono>

namespace seedbox::daemon {

namespace {

constexpr char const* kNoKey =
    "this node has no TRON key: provide tron.key_file or set tron.generate_key=true";

} // namespace

std::int64_t unix_ms()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

Account::Account(config::Config const& cfg, std::optional<tron::PrivateKey> key,
                 NodeTransport transport)
    : cfg_(cfg), key_(std::move(key))
{
    if (cfg.payments.hub.empty())
        hub_error_ = "payments.hub is not set: there is no claim hub to settle with";
    else if (auto h = tron::Address::parse(cfg.payments.hub, &hub_error_))
        hub_ = *h;
    else
        hub_error_ = "payments.hub: " + hub_error_;
    token_ = tron::Address::parse(cfg.tron.token);
    if (transport)
        node_.emplace(std::move(transport));
}

std::string Account::unavailable() const
{
    if (!key_)
        return kNoKey;
    if (!hub_)
        return hub_error_;
    return {};
}

std::pair<tron::SignedTransaction, tron::TxHeader>
Account::sign_call(tron::Address const& contract, tron::Bytes data, std::int64_t ref_number,
                   tron::Hash32 const& ref_id, std::int64_t expiration_base,
                   std::int64_t energy) const
{
    tron::TriggerSmartContract call;
    call.owner = key_->address();
    call.contract = contract;
    call.data = std::move(data);
    tron::TxHeader h;
    h.ref = tron::ref_block(ref_number, ref_id);
    h.expiration = expiration_base + cfg_.settlement.expiration * 1000;
    h.timestamp = unix_ms();
    // fee_limit = energy x price x margin, capped by config and by the chain's maximum.
    // energy and the price come from the node: negative counts as 0, and the product is capped
    // before the margin multiplies it, so nothing overflows whatever the node says.
    __int128 const cap = std::min(cfg_.settlement.fee_limit_max, max_fee_limit_.load());
    __int128 const base = static_cast<__int128>(std::max<std::int64_t>(energy, 0)) *
                          std::max<std::int64_t>(energy_price_.load(), 0);
    __int128 const fee = base >= cap ? cap : base * cfg_.settlement.fee_margin_percent / 100;
    h.fee_limit = static_cast<std::int64_t>(std::min(fee, cap));
    return {tron::sign_transaction(*key_, tron::raw_data(h, call)), h};
}

Status Account::read_fee_parameters()
{
    auto params = node_->chain_parameters();
    if (!params)
        return params.error();
    if (auto it = params.value().find("getEnergyFee"); it != params.value().end() && it->second > 0)
        energy_price_ = it->second;
    if (auto it = params.value().find("getMaxFeeLimit");
        it != params.value().end() && it->second > 0)
        max_fee_limit_ = it->second;
    return Ok{};
}

Result<Account::Anchor> Account::anchor()
{
    auto solid = node_->now_block(true);
    if (!solid)
        return solid.error();
    auto head = node_->now_block(false);
    if (!head)
        return head.error();
    auto id = tron::from_hex(solid.value().id);
    if (!id || id->size() != 32)
        return make_error(Errc::node_failed, "the solidified block id is not 32 bytes of hex");
    Anchor a;
    a.number = solid.value().number;
    std::copy(id->begin(), id->end(), a.id.begin());
    a.solid_time = solid.value().timestamp;
    a.head_time = head.value().timestamp;
    return a;
}

} // namespace seedbox::daemon
