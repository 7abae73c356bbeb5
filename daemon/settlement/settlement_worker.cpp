// Settlement's broadcast-mode worker (settlement.h has the states): the thread and its rounds,
// sending a batch's stored bytes, following it on the node to included and final (or reverted,
// or expired), settling each claim from the hub's logs, and raising paid[] from the chain.
#include "daemon/base/threads.h"
#include "daemon/settlement/settlement.h"

#include "ledger/tron/abi.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdint>
#include <spdlog/spdlog.h>

namespace seedbox::daemon {

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

void Settlement::start()
{
    if (cfg_.settlement.mode != "broadcast" || !account_.node())
        return;
    if (auto why = account_.unavailable(); !why.empty()) {
        spdlog::warn("settlement: broadcast mode is idle: {}", why);
        return;
    }
    next_run_ = unix_ms() / 1000 + cfg_.settlement.interval;
    worker_ = std::thread([this] {
        name_this_thread("sbx-settlement");
        loop();
    });
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
        bool waiting = false;
        try {
            waiting = round();
        } catch (std::exception const& e) {
            report(e);
        }
        std::unique_lock lock(mutex_);
        auto const until_due = std::chrono::seconds(
            std::clamp<std::int64_t>(next_run_ - unix_ms() / 1000 + 1, 1, 3600));
        cv_.wait_for(lock,
                     failed    ? std::chrono::seconds(30)
                     : waiting ? std::chrono::milliseconds(500)
                               : std::chrono::duration_cast<std::chrono::milliseconds>(until_due),
                     [this] { return stopping_ || wake_; });
        wake_ = false;
        failed = false;
        if (stopping_)
            return;
    }
}

bool Settlement::round()
{
    bool waiting = false;
    for (auto& b : store_.pending()) {
        {
            std::lock_guard lock(mutex_);
            if (stopping_)
                return false;
        }
        waiting = waiting || b.mode == "broadcast";
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
    return waiting || due; // a batch the run just built is sent on the next pass
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

} // namespace seedbox::daemon
