// Fuzz target: TRON node answers as daemon::Node reads them (daemon/settlement/node.h). The input
// is the HTTP body whatever answers on tron.node_url (or the solidity URL) sends back, for any
// request: a hostile or broken node, or a proxy, may send any body to any endpoint. It is parsed
// the way rpc/tron_transport.cpp parses it (a body that is not JSON becomes the transport's
// node_failed error), and that one answer goes to every Node call: now_block (solidity and full),
// constant_call, broadcast_hex, tx_info and tx_known (both endpoints), trx_balance and
// chain_parameters. The decoded results are then read the way settlement.cpp reads them:
// AbiReader(result).uint(0) on constant results, uint(0..2) on Claimed/Skipped log data.
// Checks beyond "no crash": Node never throws (below rpc/ errors are values; settlement's worker
// thread has no handler, so a throw there ends the daemon); each call makes exactly one request,
// to the endpoint its solidity flag names; every failure is Errc::node_failed; an unusable answer
// (not JSON, not an object, {"Error": ...}) fails every call and a usable one fails none except
// now_block; a block has a 64-character id equal to blockID and a positive timestamp; decoded
// bytes never exceed half the body; found/known only for the txid asked about, and an unfound
// transaction carries nothing; an accepted broadcast has a code; a failed constant call whose
// result is an Error(string) revert says "reverted: <reason>".
#include "daemon/settlement/node.h"
#include "ledger/tron/abi.h"
#include "rpc/json_limits.h"
#include "rpc/tron_transport.h"
#include "tests/fuzz/fuzz.h"

#include <cstdio>
#include <exception>
#include <string_view>

namespace {

using namespace seedbox;
using nlohmann::json;

using seedbox::fuzz::fail;
using seedbox::fuzz::require;

std::string const kTxid = "1c6a5c3bd5a8a4e6a3c1e1b1d44cf06c1f6c2e4b3f1e1c1d5b7a2f4e9c0d1e2f";
std::string const kSignedHex = "0a02262d220852bfa4b2814f816f40e8a5c2f3b5325a";

tron::Address const& owner()
{
    static auto const a = *tron::Address::parse("TAFjULxiVgT4qWk6UZwjqwZXTSaGaqnVp4");
    return a;
}

tron::Address const& contract()
{
    static auto const a = *tron::Address::parse("T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb");
    return a;
}

// A string member of the answer, if there is one.
std::optional<std::string> member(json const& j, char const* key)
{
    if (!j.is_object())
        return std::nullopt;
    auto it = j.find(key);
    if (it == j.end() || !it->is_string())
        return std::nullopt;
    return it->get<std::string>();
}

struct Harness {
    json const& answer;
    std::size_t size;
    bool unusable;
    int requests = 0;

    template <class T> void check(daemon::Result<T> const& r, bool may_fail)
    {
        if (unusable)
            require(!r, "an unusable answer (not JSON, not an object, Error) did not fail");
        else if (!may_fail)
            require(r.ok(), "a usable answer failed a call that has defaults for everything");
        if (!r)
            require(r.error().code == daemon::Errc::node_failed, "a node error not node_failed");
    }

    void now_block(daemon::Node& node, bool solidity)
    {
        auto r = node.now_block(solidity);
        check(r, true);
        if (!r)
            return;
        require(r.value().id.size() == 64 && r.value().timestamp > 0,
                "now_block(): a block without a 64-character id or a positive timestamp");
        require(member(answer, "blockID") == r.value().id, "now_block(): id is not blockID");
    }

    void constant_call(daemon::Node& node)
    {
        static auto const data = tron::abi_call("balanceOf(address)", {owner()});
        auto r = node.constant_call(owner(), contract(), data);
        check(r, false);
        if (!r)
            return;
        auto const& c = r.value();
        require(c.result.size() * 2 <= size, "constant_call(): more result bytes than the body");
        require(!c.ok || c.message.empty(), "constant_call(): a message on success");
        if (!c.ok)
            if (auto reason = tron::abi_revert_reason(c.result))
                require(c.message == "reverted: " + *reason,
                        "constant_call(): a revert reason not reported as such");
        // settlement.cpp: decimals(), paid(), balanceOf(), deposits(), ... all read uint(0).
        require(tron::AbiReader(c.result).uint(0).has_value() == (c.result.size() >= 32),
                "constant_call(): uint(0) of the result");
    }

    void broadcast(daemon::Node& node)
    {
        auto r = node.broadcast_hex(kSignedHex);
        check(r, false);
        if (!r)
            return;
        auto const& b = r.value();
        require(!b.accepted || !b.code.empty(), "broadcast_hex(): accepted without a code");
        require(b.message.size() <= size, "broadcast_hex(): message longer than the body");
    }

    void tx_info(daemon::Node& node, std::string const& txid, bool solidity)
    {
        auto r = node.tx_info(txid, solidity);
        check(r, false);
        if (!r)
            return;
        auto const& t = r.value();
        if (!t.found) {
            require(t.block == 0 && t.energy == 0 && t.fee == 0 && !t.failed &&
                        t.receipt_result.empty() && t.message.empty() && t.logs.empty(),
                    "tx_info(): a transaction not found carries data");
            return;
        }
        require(member(answer, "id") == txid, "tx_info(): found for another txid");
        std::size_t decoded = 0;
        for (auto const& log : t.logs) {
            decoded += log.address.size() + log.data.size();
            for (auto const& topic : log.topics)
                decoded += topic.size();
            // settlement.cpp finish(): Claimed/Skipped data is read as uint(0), uint(1), uint(2).
            tron::AbiReader const data(log.data);
            for (std::size_t slot = 0; slot < 3; ++slot)
                require(data.uint(slot).has_value() == (log.data.size() >= 32 * (slot + 1)),
                        "tx_info(): uint(slot) of log data");
        }
        require(decoded * 2 <= size, "tx_info(): more log bytes than the body");
    }

    void tx_known(daemon::Node& node, std::string const& txid, bool solidity)
    {
        auto r = node.tx_known(txid, solidity);
        check(r, false);
        if (r && r.value())
            require(member(answer, "txID") == txid, "tx_known(): known for another txid");
    }

    void trx_balance(daemon::Node& node)
    {
        auto r = node.trx_balance(owner());
        check(r, false);
        if (r && !(answer.is_object() && answer.contains("balance")))
            require(r.value() == 0, "trx_balance(): not 0 for an account without balance");
    }

    void chain_parameters(daemon::Node& node)
    {
        auto r = node.chain_parameters();
        check(r, false);
        if (!r)
            return;
        std::size_t listed = 0;
        if (answer.is_object() && answer.contains("chainParameter") &&
            answer["chainParameter"].is_array())
            listed = answer["chainParameter"].size();
        require(r.value().size() <= listed, "chain_parameters(): more parameters than listed");
    }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size)
{
    std::string_view const text(reinterpret_cast<char const*>(data), size);
    auto const answer = json::parse(text, nullptr, false);
    bool const unusable = answer.is_discarded() || !answer.is_object() ||
                          answer.contains("Error") || rpc::json_depth(text, 64) > 64;
    Harness h{answer, size, unusable};

    daemon::Node node(
        [&](bool solidity, std::string const& path, json const& request) -> daemon::Result<json> {
            ++h.requests;
            require(path.starts_with(solidity ? "/walletsolidity/" : "/wallet/"),
                    "a request went to the wrong endpoint for its solidity flag");
            require(request.is_object(), "a request body that is not a JSON object");
            // The real transport's reading of the body (rpc/tron_transport.cpp), once per request
            // as on the wire.
            return rpc::read_node_answer(path, 200, std::string(text));
        });

    // The txid in the answer (when it names one) so the found/known paths are reached, and a
    // fixed one that the answer usually does not name.
    auto const info_id = member(answer, "id").value_or(kTxid);
    auto const known_id = member(answer, "txID").value_or(kTxid);
    try {
        int calls = 0;
        for (bool solidity : {true, false}) {
            h.now_block(node, solidity);
            h.tx_info(node, info_id, solidity);
            h.tx_info(node, kTxid, solidity);
            h.tx_known(node, known_id, solidity);
            h.tx_known(node, kTxid, solidity);
            calls += 5;
        }
        h.constant_call(node);
        h.broadcast(node);
        h.trx_balance(node);
        h.chain_parameters(node);
        calls += 4;
        require(h.requests == calls, "a Node call did not make exactly one request");
    } catch (std::exception const& e) {
        std::fprintf(stderr, "tron_node_fuzz: Node threw on a node answer: %s\n", e.what());
        fail("exception");
    }
    return 0;
}
