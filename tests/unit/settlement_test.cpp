// Settlement below the network: what is claimable, how batches move, how node answers are read.
#include "daemon/base/events.h"
#include "daemon/settlement/node.h"
#include "daemon/settlement/settlement.h"
#include "ledger/settlement_store.h"
#include "ledger/tron/abi.h"
#include "ledger/tron/voucher.h"
#include "temp_ledger.h"

#include <boost/asio/io_context.hpp>

using namespace seedbox;
using ledger::Batch;
using ledger::BatchState;
using ledger::ClaimOutcome;
using ledger::SettlementStore;
using tron::Uint256;

namespace {

tron::PrivateKey key_of(std::uint8_t n)
{
    std::array<std::uint8_t, 32> k{};
    k[31] = n;
    return *tron::PrivateKey::from_bytes(k);
}

std::string const kHubHex = "41" + std::string(38, '0') + "aa";

void keep(ledger::Ledger& l, tron::PrivateKey const& payer, tron::Address const& me,
          Uint256 const& cumulative)
{
    tron::VoucherSigner signer({728126428, *tron::Address::parse(kHubHex)});
    ledger::Voucher v;
    v.payer = payer.address().base58();
    v.beneficiary = me.base58();
    v.chain_id = 728126428;
    v.hub = tron::Address::parse(kHubHex)->base58();
    v.cumulative = cumulative;
    v.signature = tron::to_hex(signer.sign(payer, me, cumulative));
    v.torrent = std::string(40, 'a');
    std::promise<std::string> p;
    l.keep_voucher(v, [&p](std::string const& e, Uint256 const&) { p.set_value(e); });
    REQUIRE(p.get_future().get().empty());
}

Batch batch_of(std::vector<ledger::Claim> claims, std::string const& txid)
{
    Batch b;
    b.mode = "broadcast";
    b.txid = txid;
    b.raw_data_hex = b.signature = b.signed_hex = "00";
    b.owner = b.hub = "T";
    b.ref_hash = std::string(64, '0');
    b.claims = std::move(claims);
    return b;
}

} // namespace

TEST_CASE("claimable is what kept vouchers exceed over paid and pending batches")
{
    ledger::TempLedger t;
    SettlementStore store(*t.ledger);
    auto me = key_of(9).address();
    auto p1 = key_of(1), p2 = key_of(2);
    auto hub = tron::Address::parse(kHubHex)->base58();
    keep(*t.ledger, p1, me, 100);
    keep(*t.ledger, p2, me, 300);
    CHECK(store.claimable(hub, 728126428) == 400);
    CHECK(store.claimable(hub, 1) == 0);
    auto c = store.candidates(hub, 728126428, 10);
    REQUIRE(c.size() == 2);
    CHECK(c[0].payer == p2.address().base58()); // largest first
    CHECK(store.candidates(hub, 728126428, 1).size() == 1);

    auto b = batch_of(c, "t1");
    REQUIRE(store.insert(b).empty());
    CHECK(b.id > 0);
    CHECK(store.claimable(hub, 728126428) == 0); // all pending
    keep(*t.ledger, p1, me, 150);
    auto more = store.candidates(hub, 728126428, 10);
    REQUIRE(more.size() == 1);
    CHECK(more[0].previous == 100);

    // Final with a partial payment for p2: the rest is claimable again, p1's increase too.
    b.state = BatchState::final;
    std::vector<ClaimOutcome> out(2);
    out[0].payer = p2.address().base58();
    out[0].cumulative = 300;
    out[0].claimed = true;
    out[0].amount = 120;
    out[0].paid_total = 120;
    out[1].payer = p1.address().base58();
    out[1].cumulative = 100;
    out[1].claimed = true;
    out[1].amount = 100;
    out[1].paid_total = 100;
    REQUIRE(store.transition(b, out).empty());
    CHECK(store.claimable(hub, 728126428) == (300 - 120) + (150 - 100));
    auto got = store.get(b.id);
    REQUIRE(got);
    CHECK(got->paid() == 220);
    CHECK(got->claims[0].outcome == "claimed");

    // Terminal states never move again; paid never goes down.
    b.state = BatchState::reverted;
    CHECK_FALSE(store.transition(b).empty());
    REQUIRE(store.raise_paid(p2.address().base58(), 50).empty());
    CHECK(store.paid()[p2.address().base58()] == 120);
}

TEST_CASE("a reverted or expired batch returns its claims, and states only move forward")
{
    ledger::TempLedger t;
    SettlementStore store(*t.ledger);
    auto me = key_of(9).address();
    auto hub = tron::Address::parse(kHubHex)->base58();
    keep(*t.ledger, key_of(3), me, 70);
    auto b = batch_of(store.candidates(hub, 728126428, 10), "t2");
    REQUIRE(store.insert(b).empty());
    b.state = BatchState::included;
    REQUIRE(store.transition(b).empty());
    b.state = BatchState::broadcast;
    CHECK_FALSE(store.transition(b).empty()); // backwards
    b.state = BatchState::reverted;
    REQUIRE(store.transition(b).empty());
    CHECK(store.claimable(hub, 728126428) == 70);
    CHECK(store.get(b.id)->claims[0].outcome == "returned");
    auto again = batch_of(store.candidates(hub, 728126428, 10), "t2"); // same txid: refused
    CHECK_FALSE(store.insert(again).empty());
    CHECK(store.counts() == std::map<std::string, std::int64_t>{{"reverted", 1}});
}

TEST_CASE("node answers are read defensively")
{
    using nlohmann::json;
    std::map<std::string, json> answers;
    daemon::Node node(
        [&](bool solidity, std::string const& path, json const&) -> daemon::Result<json> {
            auto it = answers.find((solidity ? "S" : "W") + path);
            if (it == answers.end())
                return daemon::make_error(daemon::Errc::node_failed, "refused");
            return it->second;
        });
    // Absent result = false; absent code with result:true = SUCCESS; DUP counts as accepted.
    answers["W/wallet/broadcasthex"] = {{"result", true}, {"txid", "ab"}};
    auto ok = node.broadcast_hex("00");
    REQUIRE(ok);
    CHECK(ok.value().accepted);
    CHECK(ok.value().code == "SUCCESS");
    answers["W/wallet/broadcasthex"] = {{"code", "DUP_TRANSACTION_ERROR"}, {"message", "4475702e"}};
    CHECK(node.broadcast_hex("00").value().accepted);
    answers["W/wallet/broadcasthex"] = {{"code", "SERVER_BUSY"}, {"message", "Server busy."}};
    auto busy = node.broadcast_hex("00").value();
    CHECK_FALSE(busy.accepted);
    CHECK(busy.temporary());
    answers["W/wallet/broadcasthex"] = {{"code", "TAPOS_ERROR"}};
    CHECK_FALSE(node.broadcast_hex("00").value().temporary());
    answers["W/wallet/broadcasthex"] = {
        {"Error", "class java.lang.IllegalAccessException : lack of computing resources"}};
    CHECK_FALSE(node.broadcast_hex("00"));
    CHECK_FALSE(node.tx_info("ab", false)); // transport refusal is an error, not "not found"

    // {} = not found; receipt without result = default; revert reason decoded.
    answers["S/walletsolidity/gettransactioninfobyid"] = json::object();
    auto none = node.tx_info("ab", true);
    REQUIRE(none);
    CHECK_FALSE(none.value().found);
    answers["W/wallet/gettransactioninfobyid"] = {
        {"id", "ab"},
        {"blockNumber", 7},
        {"fee", "9007199254740993"}, // above 2^53: read as an integer, not a double
        {"receipt", {{"result", "REVERT"}}},
        {"result", "FAILED"},
        {"resMessage", "52455645525420"}};
    auto info = node.tx_info("ab", false).value();
    CHECK(info.found);
    CHECK(info.block == 7);
    CHECK(info.fee == 9007199254740993LL);
    CHECK(info.failed);
    CHECK(info.receipt_result == "REVERT");
    auto revert = tron::abi_call("Error(string)", {tron::Bytes{'n', 'o'}});
    answers["W/wallet/triggerconstantcontract"] = {
        {"result", {{"code", "CONTRACT_EXE_ERROR"}, {"message", "REVERT opcode executed"}}},
        {"constant_result", {tron::to_hex(revert)}}};
    auto c = node.constant_call(key_of(1).address(), key_of(2).address(), tron::Bytes{});
    REQUIRE(c);
    CHECK_FALSE(c.value().ok);
    CHECK(c.value().message == "reverted: no");
    answers["W/wallet/getnowblock"] = {{"blockID", std::string(64, 'a')}};
    CHECK_FALSE(node.now_block(false)); // no timestamp
}

// Found by tests/fuzz/tron_node_fuzz.cpp: members of an unexpected type made nlohmann throw
// (type_error 302/306) on the settlement worker, which ended the daemon.
TEST_CASE("node answers of the wrong shape read as defaults, never as exceptions")
{
    using nlohmann::json;
    json answer;
    daemon::Node node(
        [&](bool, std::string const&, json const&) -> daemon::Result<json> { return answer; });
    answer = {{"result", true}, {"constant_result", {"00"}}}; // result not an object
    auto c = node.constant_call(key_of(1).address(), key_of(2).address(), tron::Bytes{});
    REQUIRE(c);
    CHECK_FALSE(c.value().ok);
    answer = {{"result", {{"result", "yes"}}}}; // result.result not a boolean
    CHECK_FALSE(
        node.constant_call(key_of(1).address(), key_of(2).address(), tron::Bytes{}).value().ok);
    answer = {{"result", {{"result", true}}}}; // broadcast: result must be a boolean
    CHECK_FALSE(node.broadcast_hex("00").value().accepted);
    answer = {{"blockID", std::string(64, 'a')}, {"block_header", "none"}};
    CHECK_FALSE(node.now_block(false));
    answer = {{"id", "ab"}, {"receipt", 5}, {"blockNumber", 18446744073709551615ULL}};
    auto info = node.tx_info("ab", false);
    REQUIRE(info);
    CHECK(info.value().found);
    CHECK(info.value().block == INT64_MAX); // clamped, not wrapped to -1
    answer = {{"balance", "12abc"}};
    CHECK(node.trx_balance(key_of(1).address()).value() == 0);
    answer = json::object(); // an empty txid is never "found" in an answer that names none
    CHECK_FALSE(node.tx_info("", false).value().found);
    CHECK_FALSE(node.tx_known("", false).value());
}
