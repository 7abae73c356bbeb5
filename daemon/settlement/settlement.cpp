#include "daemon/settlement/settlement.h"

#include "ledger/tron/abi.h"
#include "ledger/tron/transaction.h"

#include <chrono>
#include <spdlog/spdlog.h>

namespace seedbox::daemon {

using json = nlohmann::json;
using tron::Uint256;

namespace {

std::int64_t now_ms()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

} // namespace

Settlement::Settlement(config::Config const& cfg, ledger::Ledger& ledger,
                       std::optional<tron::PrivateKey> key, EventHub& events)
    : cfg_(cfg), store_(ledger), key_(std::move(key)), events_(events)
{
    if (cfg.payments.hub.empty())
        hub_error_ = "payments.hub is not set: there is no claim hub to settle with";
    else if (auto h = tron::Address::parse(cfg.payments.hub, &hub_error_))
        hub_ = *h;
    else
        hub_error_ = "payments.hub: " + hub_error_;
}

Result<ledger::Batch> Settlement::build(std::vector<ledger::Claim> claims,
                                        ReferenceBlock const& ref, std::int64_t energy_estimate)
{
    if (!key_)
        return make_error(Errc::settlement_unavailable,
                          "this node has no TRON key: provide tron.key_file or set "
                          "tron.generate_key=true");
    if (!hub_)
        return make_error(Errc::settlement_unavailable, hub_error_);
    auto block_id = tron::from_hex(ref.id);
    if (!block_id || block_id->size() != 32)
        return make_error(Errc::invalid_argument,
                          "reference_block.id must be a 32-byte block id in hex");
    if (ref.number < 0 || ref.timestamp <= 0)
        return make_error(Errc::invalid_argument,
                          "reference_block needs a number >= 0 and a timestamp in ms");
    tron::Hash32 id;
    std::copy(block_id->begin(), block_id->end(), id.begin());
    // The first 8 bytes of a block id are its number: a mismatch means a copy-paste mistake that
    // would only show up as TAPOS_ERROR at broadcast.
    std::uint64_t embedded = 0;
    for (int i = 0; i < 8; ++i)
        embedded = embedded << 8 | id[i];
    if (embedded != static_cast<std::uint64_t>(ref.number))
        return make_error(Errc::invalid_argument,
                          "reference_block.id does not start with reference_block.number");

    std::vector<tron::Address> payers;
    std::vector<Uint256> amounts;
    std::vector<tron::Bytes> sigs;
    for (auto const& c : claims) {
        auto payer = tron::Address::parse(c.payer);
        auto sig = tron::from_hex(c.signature);
        if (!payer || !sig || sig->size() != 65)
            return make_error(Errc::storage_failed,
                              "a kept voucher from " + c.payer + " is malformed in ledger.db");
        payers.push_back(*payer);
        amounts.push_back(c.cumulative);
        sigs.push_back(std::move(*sig));
    }
    tron::TriggerSmartContract call;
    call.owner = key_->address();
    call.contract = *hub_;
    call.data = tron::abi_call("claimBatch(address[],uint256[],bytes[])",
                               {std::move(payers), std::move(amounts), std::move(sigs)});
    tron::TxHeader h;
    h.ref = tron::ref_block(ref.number, id);
    h.expiration = ref.timestamp + cfg_.settlement.expiration * 1000;
    h.timestamp = now_ms();
    auto estimate = energy_estimate > 0
                        ? energy_estimate
                        : kEnergyPerClaim * static_cast<std::int64_t>(claims.size());
    // fee_limit = estimate x price x margin, capped by config (and so by the chain's 15,000 TRX).
    __int128 fee = static_cast<__int128>(estimate) * kEnergyPriceSun *
                   cfg_.settlement.fee_margin_percent / 100;
    h.fee_limit = static_cast<std::int64_t>(
        std::min<__int128>(fee, static_cast<__int128>(cfg_.settlement.fee_limit_max)));
    auto signed_tx = tron::sign_transaction(*key_, tron::raw_data(h, call));

    ledger::Batch b;
    b.mode = cfg_.settlement.mode;
    b.txid = tron::to_hex(signed_tx.id);
    b.raw_data_hex = tron::to_hex(signed_tx.raw);
    b.signature = tron::to_hex(signed_tx.signature);
    b.signed_hex = tron::to_hex(signed_tx.encoded);
    b.owner = call.owner.base58();
    b.hub = hub_->base58();
    b.chain_id = cfg_.payments.chain_id;
    b.ref_number = ref.number;
    b.ref_hash = tron::to_hex(id);
    b.expiration = h.expiration;
    b.fee_limit = h.fee_limit;
    b.energy_estimate = estimate;
    b.claims = std::move(claims);
    return b;
}

Result<json> Settlement::run(std::optional<ReferenceBlock> const& reference)
{
    std::lock_guard lock(run_mutex_);
    if (!key_ || !hub_)
        return make_error(Errc::settlement_unavailable,
                          !key_ ? "this node has no TRON key: provide tron.key_file or set "
                                  "tron.generate_key=true"
                                : hub_error_);
    if (!reference)
        return make_error(Errc::invalid_argument,
                          "settlement.mode=offline needs reference_block {number, id, timestamp} "
                          "(from a node's /walletsolidity/getnowblock)");
    auto claims = store_.candidates(hub_->base58(), cfg_.payments.chain_id,
                                    static_cast<std::size_t>(cfg_.settlement.max_claims));
    last_run_ = now_ms() / 1000;
    if (claims.empty()) {
        last_error_.clear();
        return make_error(Errc::nothing_to_settle,
                          "nothing to settle: no kept voucher is above what is paid or pending");
    }
    auto built = build(std::move(claims), *reference, 0);
    if (!built) {
        last_error_ = built.error().message;
        return built.error();
    }
    auto& b = built.value();
    if (auto err = store_.insert(b); !err.empty()) {
        last_error_ = "could not store the batch: " + err;
        spdlog::error("settlement: {}", last_error_);
        return make_error(Errc::storage_failed, last_error_);
    }
    last_error_.clear();
    spdlog::info("settlement: batch {} built ({} claims, {} base units, txid {}, expires {})", b.id,
                 b.claims.size(), tron::to_decimal(b.total()), b.txid, b.expiration);
    publish(b, "");
    return to_json(b, true);
}

void Settlement::publish(ledger::Batch const& b, std::string const& from)
{
    events_.publish("settlement.batch", {{"id", b.id},
                                         {"state", b.state},
                                         {"from", from.empty() ? json(nullptr) : json(from)},
                                         {"txid", b.txid},
                                         {"claims", b.claims.size()},
                                         {"total", tron::to_decimal(b.total())},
                                         {"paid", tron::to_decimal(b.paid())}});
}

json Settlement::status()
{
    json j = {{"mode", cfg_.settlement.mode},
              {"hub", hub_ ? json(hub_->base58()) : json(nullptr)},
              {"chain_id", cfg_.payments.chain_id},
              {"owner", key_ ? json(key_->address().base58()) : json(nullptr)},
              {"max_claims", cfg_.settlement.max_claims},
              {"min_batch_amount", cfg_.settlement.min_batch_amount},
              {"interval", cfg_.settlement.interval},
              {"last_run", last_run_ ? json(last_run_) : json(nullptr)},
              {"last_error", last_error_.empty() ? json(nullptr) : json(last_error_)}};
    if (!hub_)
        j["unavailable"] = hub_error_;
    else if (!key_)
        j["unavailable"] = "no TRON key";
    Uint256 claimable = 0;
    Uint256 pending = 0;
    if (hub_)
        claimable = store_.claimable(hub_->base58(), cfg_.payments.chain_id);
    for (auto const& b : store_.pending())
        pending += b.total();
    Uint256 paid = 0;
    for (auto const& [payer, v] : store_.paid())
        paid += v;
    j["claimable"] = tron::to_decimal(claimable);
    j["pending"] = tron::to_decimal(pending);
    j["paid"] = tron::to_decimal(paid);
    json counts = json::object();
    for (auto const& [state, n] : store_.counts())
        counts[state] = n;
    j["batches"] = counts;
    return j;
}

json Settlement::batches(std::int64_t limit, std::int64_t before, std::string const& state)
{
    json out = json::array();
    auto rows = store_.list(limit + 1, before, state);
    json next = nullptr;
    if (static_cast<std::int64_t>(rows.size()) > limit) {
        rows.pop_back();
        next = rows.back().id;
    }
    for (auto const& b : rows)
        out.push_back(to_json(b, true));
    return {{"batches", out}, {"next_before", next}};
}

Result<json> Settlement::batch(std::int64_t id)
{
    auto b = store_.get(id);
    if (!b)
        return make_error(Errc::batch_not_found, "no settlement batch " + std::to_string(id));
    return to_json(*b, true);
}

} // namespace seedbox::daemon
