#include "daemon/settlement/settlement.h"

#include "ledger/tron/abi.h"
#include "ledger/tron/transaction.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <csignal>
#include <cstdlib>
#include <spdlog/spdlog.h>

namespace seedbox::daemon {

using json = nlohmann::json; // event payloads
using tron::Uint256;

namespace {

tron::Hash32 const& claimed_topic()
{
    static auto const t =
        tron::keccak256(tron::view("Claimed(address,address,uint256,uint256,uint256)"));
    return t;
}

tron::Hash32 const& skipped_topic()
{
    static auto const t = tron::keccak256(tron::view("Skipped(address,address,uint256,uint8)"));
    return t;
}

bool same(tron::Bytes const& a, auto const& b)
{
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

std::optional<tron::Address> address_of_word(tron::Bytes const& word)
{
    if (word.size() != 32)
        return std::nullopt;
    std::array<std::uint8_t, 20> evm{};
    std::copy(word.begin() + 12, word.end(), evm.begin());
    return tron::Address(evm);
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

void Settlement::start()
{
    if (cfg_.settlement.mode != "broadcast" || !account_.node())
        return;
    if (auto why = account_.unavailable(); !why.empty()) {
        spdlog::warn("settlement: broadcast mode is idle: {}", why);
        return;
    }
    next_run_ = unix_ms() / 1000 + cfg_.settlement.interval;
    worker_ = std::thread([this] { loop(); });
}

void Settlement::stop()
{
    wallet_.stop();
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (worker_.joinable())
        worker_.join();
}

Result<ledger::Batch> Settlement::build(std::vector<ledger::Claim> claims,
                                        ReferenceBlock const& ref, std::int64_t expiration_base,
                                        std::int64_t energy_estimate)
{
    if (auto why = account_.unavailable(); !why.empty())
        return make_error(Errc::settlement_unavailable, why);
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

void Settlement::loop()
{
    // An exception (a bug, or a library refusing a value from the node) must not end the daemon:
    // it is logged and the round is tried again after a pause, every batch where it was.
    bool failed = false;
    auto report = [&failed](std::exception const& e) {
        spdlog::error("settlement: unexpected error, trying again in 30 s: {}", e.what());
        failed = true;
    };
    try {
        reconcile_paid();
    } catch (std::exception const& e) {
        report(e);
    }
    for (;;) {
        try {
            round();
        } catch (std::exception const& e) {
            report(e);
        }
        std::unique_lock lock(mutex_);
        cv_.wait_for(lock, failed ? std::chrono::seconds(30) : std::chrono::milliseconds(500),
                     [this] { return stopping_ || wake_; });
        wake_ = false;
        failed = false;
        if (stopping_)
            return;
    }
}

void Settlement::round()
{
    for (auto& b : store_.pending()) {
        {
            std::lock_guard lock(mutex_);
            if (stopping_)
                return;
        }
        advance(std::move(b));
    }
    bool due = false;
    {
        std::lock_guard lock(mutex_);
        auto now = unix_ms() / 1000;
        if (now >= next_run_) {
            due = true;
            last_check_ = now;
            next_run_ = now + cfg_.settlement.interval;
        }
    }
    if (due) {
        auto claimable = store_.claimable(account_.hub()->base58(), cfg_.payments.chain_id);
        auto min = tron::parse_uint256(cfg_.settlement.min_batch_amount).value_or(0);
        if (claimable > 0 && claimable >= min) {
            std::lock_guard lock(run_mutex_);
            auto r = run_locked(std::nullopt);
            if (!r && r.error().code != Errc::nothing_to_settle)
                spdlog::warn("settlement: automatic run failed: {}", r.error().message);
        }
    }
}

void Settlement::advance(ledger::Batch b)
{
    if (b.mode != "broadcast")
        return; // offline batches are broadcast by someone else
    if (b.state == ledger::BatchState::built) {
        send(b);
        return;
    }
    if (b.state == ledger::BatchState::broadcast) {
        auto info = account_.node()->tx_info(b.txid, false);
        if (!info) {
            spdlog::warn("settlement: batch {}: {}", b.id, info.error().message);
            return;
        }
        if (info.value().found && info.value().block > 0) {
            b.block = info.value().block;
            move(std::move(b), ledger::BatchState::included);
            return;
        }
        if (proven_expired(b)) {
            b.error = "expired without being included";
            move(std::move(b), ledger::BatchState::expired);
            return;
        }
        // Not seen yet: the node may have dropped it (restart, full pool). Same bytes again.
        if (unix_ms() - last_send_[b.id] >= 3000)
            send(b);
        return;
    }
    if (b.state == ledger::BatchState::included) {
        fault_point("settlement.confirming");
        auto info = account_.node()->tx_info(b.txid, true);
        if (!info) {
            spdlog::warn("settlement: batch {}: {}", b.id, info.error().message);
            return;
        }
        if (info.value().found)
            finish(std::move(b), info.value());
    }
}

void Settlement::send(ledger::Batch& b)
{
    auto r = account_.node()->broadcast_hex(b.signed_hex);
    last_send_[b.id] = unix_ms();
    // Every attempt counts: a send that timed out may still have reached the node.
    if (auto err = store_.count_broadcast(b.id); !err.empty())
        spdlog::error("settlement: {}", err);
    if (!r) {
        spdlog::warn("settlement: broadcasting batch {} failed, will retry: {}", b.id,
                     r.error().message);
        std::lock_guard lock(mutex_);
        last_error_ = r.error().message;
        return;
    }
    auto const& res = r.value();
    if (res.accepted) {
        fault_point("settlement.after_broadcast");
        if (b.state == ledger::BatchState::built)
            move(b, ledger::BatchState::broadcast);
        return;
    }
    {
        std::lock_guard lock(mutex_);
        last_error_ = "batch " + std::to_string(b.id) + ": " + res.code + " " + res.message;
    }
    if (res.temporary()) {
        spdlog::info("settlement: node answered {} for batch {}; the same bytes go again", res.code,
                     b.id);
        return;
    }
    // TAPOS_ERROR, TRANSACTION_EXPIRATION_ERROR or a permanent refusal: these bytes will not be
    // accepted, but the claims return only once it is proven that no earlier send landed.
    spdlog::warn("settlement: node refused batch {}: {} {}", b.id, res.code, res.message);
    if (proven_expired(b)) {
        b.error = res.code + ": " + res.message;
        move(b, ledger::BatchState::expired);
    }
}

bool Settlement::proven_expired(ledger::Batch const& b)
{
    auto solid = account_.node()->now_block(true);
    if (!solid || solid.value().timestamp <= b.expiration)
        return false;
    auto s = account_.node()->tx_info(b.txid, true);
    auto w = account_.node()->tx_info(b.txid, false);
    auto k = account_.node()->tx_known(b.txid, false);
    return s && w && k && !s.value().found && !w.value().found && !k.value();
}

void Settlement::finish(ledger::Batch b, TxInfo const& info)
{
    b.block = info.block;
    b.energy = info.energy;
    b.fee = info.fee;
    if (info.receipt_result != "SUCCESS" || info.failed) {
        b.error = (info.receipt_result.empty() ? std::string("FAILED") : info.receipt_result) +
                  (info.message.empty() ? "" : ": " + info.message);
        spdlog::warn("settlement: batch {} failed on chain ({}); its claims are claimable again",
                     b.id, b.error);
        move(std::move(b), ledger::BatchState::reverted);
        return;
    }
    std::vector<ledger::ClaimOutcome> outcomes;
    auto me = account_.key()->address();
    for (auto const& log : info.logs) {
        if (!same(log.address, account_.hub()->evm()) || log.topics.size() != 3)
            continue;
        bool claimed = same(log.topics[0], claimed_topic());
        if (!claimed && !same(log.topics[0], skipped_topic()))
            continue;
        auto payer = address_of_word(log.topics[1]);
        auto ben = address_of_word(log.topics[2]);
        if (!payer || !ben || *ben != me)
            continue;
        tron::AbiReader r(log.data);
        ledger::ClaimOutcome o;
        o.payer = payer->base58();
        o.cumulative = r.uint(0).value_or(0);
        o.claimed = claimed;
        if (claimed) {
            o.amount = r.uint(1).value_or(0);
            o.paid_total = r.uint(2).value_or(0);
        } else {
            // The contract's reason codes are small; a word beyond int from the node is kept as
            // INT_MAX (unknown) rather than thrown on by the checked conversion.
            auto why = r.uint(1).value_or(0);
            o.reason = why > INT_MAX ? INT_MAX : static_cast<int>(why);
        }
        outcomes.push_back(std::move(o));
    }
    fault_point("settlement.reconcile");
    move(std::move(b), ledger::BatchState::final, outcomes);
}

void Settlement::reconcile_paid()
{
    // The chain is the truth for what was paid: raise our record of paid[payer][us] for every
    // payer with something claimable (a crash may have lost a final state change).
    auto me = account_.key()->address();
    for (auto const& c :
         store_.candidates(account_.hub()->base58(), cfg_.payments.chain_id, SIZE_MAX)) {
        {
            std::lock_guard lock(mutex_);
            if (stopping_)
                return; // one node call per payer: a shutdown must not wait for all of them
        }
        auto payer = tron::Address::parse(c.payer);
        if (!payer)
            continue;
        auto r = account_.node()->constant_call(
            me, *account_.hub(), tron::abi_call("paid(address,address)", {*payer, me}));
        if (!r || !r.value().ok) {
            spdlog::warn("settlement: could not read paid[{}] from the hub: {}", c.payer,
                         r ? r.value().message : r.error().message);
            return;
        }
        auto paid = tron::AbiReader(r.value().result).uint(0).value_or(0);
        if (paid > 0)
            if (auto err = store_.raise_paid(c.payer, paid); !err.empty())
                spdlog::error("settlement: {}", err);
    }
}

void Settlement::move(ledger::Batch b, ledger::BatchState state,
                      std::vector<ledger::ClaimOutcome> const& outcomes)
{
    auto from = b.state;
    b.state = state;
    if (auto err = store_.transition(b, outcomes); !err.empty()) {
        spdlog::error("settlement: batch {}: {}", b.id, err);
        return;
    }
    spdlog::info("settlement: batch {} {} -> {}{}", b.id, ledger::name(from), ledger::name(state),
                 b.error.empty() ? "" : " (" + b.error + ")");
    auto fresh = store_.get(b.id);
    publish(fresh ? *fresh : b, from);
}

void Settlement::publish(ledger::Batch const& b, std::optional<ledger::BatchState> from)
{
    events_.publish(Event::settlement_batch,
                    {{"id", b.id},
                     {"state", ledger::name(b.state)},
                     {"from", from ? json(ledger::name(*from)) : json(nullptr)},
                     {"txid", b.txid},
                     {"claims", b.claims.size()},
                     {"total", tron::to_decimal(b.total())},
                     {"paid", tron::to_decimal(b.paid())}});
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
