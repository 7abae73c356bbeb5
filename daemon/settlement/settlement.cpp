// Settlement's batches (settlement.h): building and signing a claimBatch transaction from the
// kept vouchers, storing it before anything else happens, and the read side (status, batches).
// The broadcast-mode worker that moves stored batches along is in settlement_worker.cpp.
#include "daemon/settlement/settlement.h"

#include "ledger/tron/abi.h"
#include "ledger/tron/transaction.h"

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <spdlog/spdlog.h>

namespace seedbox::daemon {

using tron::Uint256;

namespace {

// The reference block's id, once checked against the block's number and timestamp.
Result<tron::Hash32> reference_id(ReferenceBlock const& ref)
{
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
    return id;
}

} // namespace

void fault_point(char const* name)
{
#ifdef SEEDBOX_TEST_HOOKS
    static char const* wanted = std::getenv("SEEDBOX_FAULT_POINT");
    if (wanted && std::string_view(wanted) == name) {
        spdlog::warn("fault point {} reached: killing the daemon (SEEDBOX_FAULT_POINT)", name);
        spdlog::default_logger()->flush();
        std::raise(SIGKILL);
    }
#else
    (void)name;
#endif
}

Settlement::Settlement(config::Config const& cfg, ledger::Ledger& ledger,
                       std::optional<tron::PrivateKey> key, EventHub& events,
                       NodeTransport transport)
    : cfg_(cfg), store_(ledger), account_(cfg, std::move(key), std::move(transport)),
      wallet_(cfg, account_), events_(events)
{
}

Settlement::~Settlement()
{
    stop();
}

Result<ledger::Batch> Settlement::build(std::vector<ledger::Claim> claims,
                                        ReferenceBlock const& ref, std::int64_t expiration_base,
                                        std::int64_t energy_estimate)
{
    if (auto why = account_.unavailable(); !why.empty())
        return make_error(Errc::settlement_unavailable, why);
    auto checked = reference_id(ref);
    if (!checked)
        return checked.error();
    auto const& id = checked.value();
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
    auto estimate = energy_estimate > 0
                        ? energy_estimate
                        : kEnergyPerClaim * static_cast<std::int64_t>(claims.size());
    auto [signed_tx, h] =
        account_.sign_call(*account_.hub(),
                           tron::abi_call("claimBatch(address[],uint256[],bytes[])",
                                          {std::move(payers), std::move(amounts), std::move(sigs)}),
                           ref.number, id, expiration_base, estimate);

    ledger::Batch b;
    b.mode = cfg_.settlement.mode;
    b.txid = tron::to_hex(signed_tx.id);
    b.raw_data_hex = tron::to_hex(signed_tx.raw);
    b.signature = tron::to_hex(signed_tx.signature);
    b.signed_hex = tron::to_hex(signed_tx.encoded);
    b.owner = account_.key()->address().base58();
    b.hub = account_.hub()->base58();
    b.chain_id = cfg_.payments.chain_id;
    b.ref_number = ref.number;
    b.ref_hash = tron::to_hex(id);
    b.expiration = h.expiration;
    b.fee_limit = h.fee_limit;
    b.energy_estimate = estimate;
    b.claims = std::move(claims);
    return b;
}

Result<ledger::Batch> Settlement::run(std::optional<ReferenceBlock> const& reference)
{
    std::lock_guard lock(run_mutex_);
    return run_locked(reference);
}

Result<ledger::Batch> Settlement::run_locked(std::optional<ReferenceBlock> const& reference)
{
    if (auto why = account_.unavailable(); !why.empty())
        return make_error(Errc::settlement_unavailable, why);
    bool offline = cfg_.settlement.mode != "broadcast";
    if (offline && !reference)
        return make_error(Errc::invalid_argument,
                          "settlement.mode=offline needs reference_block {number, id, timestamp} "
                          "(from a node's /walletsolidity/getnowblock)");
    if (offline && reference->timestamp + cfg_.settlement.expiration * 1000 <= unix_ms())
        return make_error(Errc::invalid_argument,
                          "reference_block is too old: a batch on it would already have expired "
                          "(timestamp + settlement.expiration is in the past)");
    auto claims = store_.candidates(account_.hub()->base58(), cfg_.payments.chain_id,
                                    static_cast<std::size_t>(cfg_.settlement.max_claims));
    {
        std::lock_guard lock(mutex_);
        last_run_ = unix_ms() / 1000;
    }
    if (claims.empty())
        return make_error(Errc::nothing_to_settle,
                          "nothing to settle: no kept voucher is above what is paid or pending");
    auto built = offline ? build(std::move(claims), *reference, reference->timestamp, 0)
                         : build_from_node(std::move(claims));
    if (!built) {
        std::lock_guard lock(mutex_);
        last_error_ = built.error().message;
        return built.error();
    }
    auto& b = built.value();
    if (auto err = store_.insert(b); !err.empty()) {
        spdlog::error("settlement: could not store the batch: {}", err);
        std::lock_guard lock(mutex_);
        last_error_ = "could not store the batch: " + err;
        return make_error(Errc::storage_failed, last_error_);
    }
    fault_point("settlement.after_build");
    spdlog::info("settlement: batch {} built ({} claims, {} base units, txid {}, fee_limit {} "
                 "sun, expires {})",
                 b.id, b.claims.size(), tron::to_decimal(b.total()), b.txid, b.fee_limit,
                 b.expiration);
    publish(b, std::nullopt);
    {
        std::lock_guard lock(mutex_);
        last_error_.clear();
        wake_ = true;
    }
    cv_.notify_all();
    return std::move(b);
}

Result<ledger::Batch> Settlement::build_from_node(std::vector<ledger::Claim> claims)
{
    auto me = account_.key()->address();
    // Pre-flight: the token must have 18 decimals, and the chain's prices and limits are read.
    if (!account_.token())
        return make_error(Errc::settlement_unavailable, "tron.token is not a TRON address");
    auto dec =
        account_.node()->constant_call(me, *account_.token(), tron::abi_call("decimals()", {}));
    if (!dec)
        return dec.error();
    auto decimals = tron::AbiReader(dec.value().result).uint(0);
    if (!dec.value().ok || !decimals || *decimals != 18)
        return make_error(
            Errc::settlement_unavailable,
            "tron.token " + account_.token()->base58() + " does not report 18 decimals (" +
                (dec.value().ok
                     ? std::string("decimals() = ") + (decimals ? tron::to_decimal(*decimals) : "?")
                     : dec.value().message) +
                "): refusing to settle in it");
    if (auto st = account_.read_fee_parameters(); !st)
        return st.error();
    auto at = account_.anchor();
    if (!at)
        return at.error();
    // Estimate with the exact calldata: a constant call runs the hub as the broadcast will.
    std::vector<tron::Address> payers;
    std::vector<Uint256> amounts;
    std::vector<tron::Bytes> sigs;
    for (auto const& c : claims) {
        payers.push_back(tron::Address::parse(c.payer).value_or(tron::Address{}));
        amounts.push_back(c.cumulative);
        sigs.push_back(tron::from_hex(c.signature).value_or(tron::Bytes{}));
    }
    auto est = account_.node()->constant_call(
        me, *account_.hub(),
        tron::abi_call("claimBatch(address[],uint256[],bytes[])",
                       {std::move(payers), std::move(amounts), std::move(sigs)}));
    if (!est)
        return est.error();
    if (!est.value().ok)
        return make_error(Errc::node_failed,
                          "the hub refuses this batch in a dry run: " + est.value().message);
    ReferenceBlock ref{at.value().number, tron::to_hex(at.value().id), at.value().solid_time};
    auto b = build(std::move(claims), ref, at.value().head_time, est.value().energy_used);
    if (!b)
        return b;
    auto trx = account_.node()->trx_balance(me);
    if (!trx)
        return trx.error();
    if (trx.value() < b.value().fee_limit)
        return make_error(Errc::settlement_unavailable,
                          "the TRX balance of " + me.base58() + " (" + std::to_string(trx.value()) +
                              " sun) does not cover the fee limit (" +
                              std::to_string(b.value().fee_limit) + " sun)");
    return b;
}

void Settlement::publish(ledger::Batch const& b, std::optional<ledger::BatchState> from)
{
    events_.publish(BatchChanged{.id = b.id,
                                 .state = b.state,
                                 .from = from,
                                 .txid = b.txid,
                                 .claims = static_cast<std::int64_t>(b.claims.size()),
                                 .total = b.total(),
                                 .paid = b.paid()});
}

SettlementStatus Settlement::status()
{
    SettlementStatus st;
    st.mode = cfg_.settlement.mode;
    st.chain_id = cfg_.payments.chain_id;
    st.max_claims = cfg_.settlement.max_claims;
    st.min_batch_amount = cfg_.settlement.min_batch_amount;
    st.interval = cfg_.settlement.interval;
    {
        std::lock_guard lock(mutex_);
        st.last_run = last_run_;
        st.last_check = last_check_;
        st.next_run = next_run_;
        st.last_error = last_error_;
    }
    auto const& hub = account_.hub();
    if (hub)
        st.hub = hub->base58();
    if (auto const* key = account_.key())
        st.owner = key->address().base58();
    if (!hub)
        st.unavailable = account_.hub_error();
    else if (!account_.key())
        st.unavailable = "no TRON key";
    if (hub)
        st.claimable = store_.claimable(hub->base58(), cfg_.payments.chain_id);
    for (auto const& b : store_.pending())
        st.pending += b.total();
    for (auto const& [payer, v] : store_.paid())
        st.paid += v;
    st.batches = store_.counts();
    return st;
}

BatchPage Settlement::batches(std::int64_t limit, std::int64_t before, std::string const& state)
{
    BatchPage page;
    page.batches = store_.list(limit + 1, before, state);
    if (static_cast<std::int64_t>(page.batches.size()) > limit) {
        page.batches.pop_back();
        page.next_before = page.batches.back().id;
    }
    return page;
}

Result<ledger::Batch> Settlement::batch(std::int64_t id)
{
    auto b = store_.get(id);
    if (!b)
        return make_error(Errc::batch_not_found, "no settlement batch " + std::to_string(id));
    return *b;
}

} // namespace seedbox::daemon
