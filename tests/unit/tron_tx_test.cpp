// ledger/tron transactions and ABI against the reference vectors made with tronweb 6.5.1 and
// ethers (tests/fixtures/tron, copied from shared/vectors/tron): raw_data, txID, signatures and
// calldata must match byte for byte.
#include "ledger/tron/abi.h"
#include "ledger/tron/address.h"
#include "ledger/tron/keys.h"
#include "ledger/tron/transaction.h"
#include "ledger/tron/uint256.h"
#include "tron_fixtures.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

using namespace seedbox::tron;
using json = nlohmann::json;
using seedbox::test::fixture;
using seedbox::test::hex;
using seedbox::test::key;

// Transactions (ledger/tron/transaction.h) against trc20_transfer_tx.json.

namespace {

Address address_hex(std::string const& h)
{
    auto a = Address::parse(h);
    REQUIRE(a);
    return *a;
}

TxHeader header_of(json const& in)
{
    TxHeader h;
    auto rb = hex(in["ref_block_bytes"].get<std::string>());
    auto rh = hex(in["ref_block_hash"].get<std::string>());
    std::copy(rb.begin(), rb.end(), h.ref.bytes.begin());
    std::copy(rh.begin(), rh.end(), h.ref.hash.begin());
    h.expiration = in["expiration"].get<std::int64_t>();
    h.timestamp = in["timestamp"].get<std::int64_t>();
    h.fee_limit = in.value("fee_limit_sun", std::int64_t{0});
    h.permission_id = in.value("permission_id", 0);
    return h;
}

} // namespace

TEST_CASE("trc20_transfer_tx.json: raw_data, txID, signature and signed Transaction, byte for byte")
{
    auto v = fixture("trc20_transfer_tx.json");
    REQUIRE(v["cases"].size() == 6);
    for (auto const& c : v["cases"]) {
        CAPTURE(c["name"].get<std::string>());
        auto const& in = c["inputs"];
        // The reference block fields follow from the block number and id.
        auto block_id = hex(in["ref_block"]["blockID"].get<std::string>());
        Hash32 id;
        std::copy(block_id.begin(), block_id.end(), id.begin());
        auto rb = ref_block(in["ref_block"]["number"].get<std::int64_t>(), id);
        CHECK(to_hex(rb.bytes) == in["ref_block_bytes"]);
        CHECK(to_hex(rb.hash) == in["ref_block_hash"]);

        TriggerSmartContract call{
            address_hex(in["owner_address_hex"]), address_hex(in["contract_address_hex"]),
            in["call_value"].get<std::int64_t>(), hex(c["calldata_hex"].get<std::string>())};
        CHECK(to_hex(encode(call)) == c["trigger_smart_contract_pb_hex"]);
        auto raw = raw_data(header_of(in), call);
        CHECK(to_hex(raw) == c["transaction"]["raw_data_hex"]);
        auto tx = sign_transaction(key(in["owner_private_key_hex"]), raw);
        CHECK(to_hex(tx.id) == c["transaction"]["txID"]);
        CHECK(to_hex(tx.signature) == c["signature_hex"]);
        CHECK(to_hex(tx.encoded) == c["signed_transaction_pb_hex"]);
        auto back = recover(tx.id, tx.signature);
        REQUIRE(back.address);
        CHECK(to_hex(back.address->bytes()) == c["recovered_address_hex"]);
    }
}

TEST_CASE("trc20_transfer_tx.json: a TRX TransferContract and a java-tron node's own transaction")
{
    auto v = fixture("trc20_transfer_tx.json");
    auto const& t = v["trx_transfer_case"];
    auto const& in = t["inputs"];
    auto owner = key(in["owner_private_key_hex"]);
    auto raw = raw_data(
        header_of(in), TransferContract{owner.address(),
                                        *Address::parse(in["to_address_base58"].get<std::string>()),
                                        in["amount_sun"].get<std::int64_t>()});
    CHECK(to_hex(raw) == t["transaction"]["raw_data_hex"]);
    auto tx = sign_transaction(owner, raw);
    CHECK(to_hex(tx.id) == t["transaction"]["txID"]);
    CHECK(to_hex(tx.signature) == t["signature_hex"]);
    CHECK(to_hex(tx.encoded) == t["signed_transaction_pb_hex"]);

    // A transaction built by a real java-tron node re-encodes to the node's bytes and txID.
    auto const& node = v["node_references"]["java_tron_built_transaction"];
    auto const& rd = node["raw_data"];
    auto const& val = rd["contract"][0]["parameter"]["value"];
    TxHeader h = header_of(rd);
    h.fee_limit = rd["fee_limit"].get<std::int64_t>();
    auto node_raw = raw_data(h, TriggerSmartContract{address_hex(val["owner_address"]),
                                                     address_hex(val["contract_address"]), 0,
                                                     hex(val["data"].get<std::string>())});
    CHECK(to_hex(node_raw) == node["raw_data_hex"]);
    CHECK(to_hex(tx_id(node_raw)) == node["txID"]);
}

// ABI (ledger/tron/abi.h) against abi.json (calldata from ethers.Interface).
namespace {

AbiValue abi_arg(std::string const& type, json const& v)
{
    auto evm_address = [](json const& a) {
        auto b = hex(a.get<std::string>());
        REQUIRE(b.size() == 20);
        std::array<std::uint8_t, 20> e;
        std::copy(b.begin(), b.end(), e.begin());
        return Address(e);
    };
    auto amount = [](json const& a) {
        auto u = parse_uint256(a.get<std::string>());
        REQUIRE(u);
        return *u;
    };
    if (type == "address")
        return evm_address(v);
    if (type == "uint256")
        return amount(v);
    if (type == "bytes")
        return hex(v.get<std::string>());
    if (type == "address[]") {
        std::vector<Address> out;
        for (auto const& a : v)
            out.push_back(evm_address(a));
        return out;
    }
    if (type == "uint256[]") {
        std::vector<Uint256> out;
        for (auto const& a : v)
            out.push_back(amount(a));
        return out;
    }
    REQUIRE(type == "bytes[]");
    std::vector<Bytes> out;
    for (auto const& a : v)
        out.push_back(hex(a.get<std::string>()));
    return out;
}

std::vector<std::string> param_types(std::string const& signature)
{
    auto open = signature.find('(');
    auto list = signature.substr(open + 1, signature.size() - open - 2);
    std::vector<std::string> types;
    for (std::size_t pos = 0; pos < list.size();) {
        auto comma = list.find(',', pos);
        types.push_back(list.substr(pos, comma - pos));
        pos = comma == std::string::npos ? list.size() : comma + 1;
    }
    return types;
}

} // namespace

TEST_CASE("abi.json: selectors and calldata for static and dynamic parameters, byte for byte")
{
    auto v = fixture("abi.json");
    REQUIRE(v["calls"].size() >= 9);
    for (auto const& c : v["calls"]) {
        auto sig = c["signature"].get<std::string>();
        CAPTURE(sig);
        CHECK(to_hex(abi_selector(sig)) == c["selector_hex"]);
        auto types = param_types(sig);
        REQUIRE(types.size() == c["args_evm"].size());
        std::vector<AbiValue> args;
        for (std::size_t i = 0; i < types.size(); ++i)
            args.push_back(abi_arg(types[i], c["args_evm"][i]));
        CHECK(to_hex(abi_call(sig, args)) == c["calldata_hex"]);
        if (c.contains("parameter_hex"))
            CHECK(to_hex(abi_encode(args)) == c["parameter_hex"]);
    }
}

TEST_CASE(
    "abi.json: results, dynamic arrays and Error(string) reverts decode, and bad input is refused")
{
    auto v = fixture("abi.json");
    for (auto const& r : v["return_values"]) {
        CAPTURE(r["fn"].get<std::string>());
        auto data = hex(r["constant_result_hex"].get<std::string>());
        AbiReader reader(data);
        if (r["decoded"][0].is_boolean())
            CHECK(reader.boolean(0) == r["decoded"][0].get<bool>());
        else
            CHECK(to_decimal(*reader.uint(0)) == r["decoded"][0]);
        CHECK_FALSE(reader.uint(1)); // nothing past the end
    }
    auto revert = hex(v["revert_reason_example"]["constant_result_hex"].get<std::string>());
    CHECK(abi_revert_reason(revert) == v["revert_reason_example"]["decoded"].get<std::string>());
    CHECK_FALSE(abi_revert_reason(hex(v["return_values"][0]["constant_result_hex"])));

    // claimBatch's own parameters read back: arrays and bytes through their offsets.
    for (auto const& c : v["calls"]) {
        if (c["signature"] != "claimBatch(address[],uint256[],bytes[])")
            continue;
        Bytes p(hex(c["calldata_hex"].get<std::string>()));
        p.erase(p.begin(), p.begin() + 4);
        AbiReader reader(p);
        auto amounts = reader.uints(1);
        REQUIRE(amounts);
        REQUIRE(amounts->size() == 3);
        CHECK(to_decimal((*amounts)[1]) == "18446744073709551616");
    }
    // Offsets pointing past the end, or lengths longer than the data, give nullopt.
    Bytes bogus(64, 0);
    bogus[31] = 0xff; // offset 255 > size
    CHECK_FALSE(AbiReader(bogus).bytes(0));
    bogus[31] = 0x20; // offset 32, then a length of 0xff.. words
    bogus[32] = 0xff;
    CHECK_FALSE(AbiReader(bogus).bytes(0));
    CHECK_FALSE(AbiReader(bogus).uints(0));
    CHECK_FALSE(AbiReader(bogus).boolean(1));
}
