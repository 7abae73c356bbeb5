// ledger/tron against the reference vectors made with tronweb 6.5.1 (tests/fixtures/tron, copied
// from shared/vectors/tron): every case must match byte for byte.
#include "ledger/tron/abi.h"
#include "ledger/tron/address.h"
#include "ledger/tron/base58.h"
#include "ledger/tron/keys.h"
#include "ledger/tron/message.h"
#include "ledger/tron/transaction.h"
#include "ledger/tron/typed_data.h"
#include "ledger/tron/uint256.h"
#include "ledger/tron/voucher.h"

#include <doctest/doctest.h>
#include <fstream>
#include <nlohmann/json.hpp>

using namespace seedbox::tron;
using json = nlohmann::json;

namespace {

json fixture(char const* name)
{
    std::ifstream in(std::string(SEEDBOX_FIXTURES) + "/tron/" + name);
    REQUIRE(in);
    return json::parse(in);
}

Bytes hex(std::string const& s)
{
    auto b = from_hex(s);
    REQUIRE(b);
    return *b;
}

PrivateKey key(std::string const& h)
{
    auto k = PrivateKey::from_bytes(hex(h));
    REQUIRE(k);
    return *k;
}

std::string sig_hex(Signature const& s)
{
    return to_hex(s);
}

// secp256k1 group order n, big-endian.
Uint256 const kN = *parse_uint256(
    "115792089237316195423570985008687907852837564279074904382605163141518161494337");

} // namespace

TEST_CASE("keccak-256 is not sha3-256")
{
    CHECK(to_hex(keccak256({})) ==
          "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    CHECK(to_hex(keccak256(view("abc"))) ==
          "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
    CHECK(to_hex(keccak256(view("transfer(address,uint256)"))).substr(0, 8) == "a9059cbb");
    CHECK(to_hex(sha256(view("abc"))) ==
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("base58 round trips, keeps leading zeros and rejects bad characters")
{
    Bytes data{0, 0, 1, 2, 3, 255};
    CHECK(*base58_decode(base58_encode(data)) == data);
    CHECK(base58_encode(Bytes{0, 0}) == "11");
    CHECK_FALSE(base58_decode("0OIl"));
    CHECK_FALSE(base58check_decode("11111"));
}

TEST_CASE("addresses.json: keys, public keys, hex and Base58Check addresses")
{
    auto v = fixture("addresses.json");
    REQUIRE(v["cases"].size() >= 10);
    for (auto const& c : v["cases"]) {
        CAPTURE(c["label"].get<std::string>());
        auto k = key(c["private_key_hex"]);
        CHECK(to_hex(k.public_key_uncompressed()) == c["public_key_uncompressed_hex"]);
        CHECK(to_hex(k.public_key_compressed()) == c["public_key_compressed_hex"]);
        auto a = k.address();
        CHECK(a.hex() == c["address_hex"]);
        CHECK(a.base58() == c["address_base58"]);
        CHECK("0x" + to_hex(a.evm()) == c["address_evm_20byte_hex"]);
        CHECK(*Address::parse(c["address_base58"].get<std::string>()) == a);
        CHECK(*Address::parse(c["address_hex"].get<std::string>()) == a);
        CHECK(to_hex(*from_hex(c["base58check_payload_hex"].get<std::string>())).substr(42) ==
              c["base58check_checksum_hex"]);
    }
    for (auto const& c : v["known_addresses"]) {
        CAPTURE(c["label"].get<std::string>());
        auto a = Address::parse(c["address_base58"].get<std::string>());
        REQUIRE(a);
        CHECK(a->hex() == c["address_hex"]);
    }
    CHECK(Address().base58() == "T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb");
}

TEST_CASE("addresses.json: every invalid address is rejected with a reason")
{
    auto v = fixture("addresses.json");
    REQUIRE_FALSE(v["invalid_addresses"].empty());
    for (auto const& c : v["invalid_addresses"]) {
        CAPTURE(c["reason"].get<std::string>());
        std::string why;
        CHECK_FALSE(Address::parse(c["input"].get<std::string>(), &why));
        CHECK_FALSE(why.empty());
    }
    std::string why;
    CHECK_FALSE(Address::parse("42" + std::string(40, '0'), &why)); // wrong prefix, hex form
    CHECK_FALSE(Address::parse("41" + std::string(39, '0') + "g", &why));
    CHECK_FALSE(Address::parse("", &why));
}

TEST_CASE("signed_messages.json: TIP-104 signMessageV2, byte for byte")
{
    auto v = fixture("signed_messages.json");
    REQUIRE(v["sign_message_v2"].size() == 6);
    for (auto const& c : v["sign_message_v2"]) {
        CAPTURE(c["label"].get<std::string>());
        auto msg = hex(c["message_bytes_hex"]);
        CHECK(to_hex(message_digest(msg)) == c["digest_keccak256_hex"]);
        auto sig = sign_message(key(c["private_key_hex"]), msg);
        CHECK(sig_hex(sig) == c["signature_hex"]);
        auto r = recover_message(msg, sig);
        REQUIRE(r.address);
        CHECK(r.address->base58() == c["recovered_address_base58"]);
    }
}

TEST_CASE("signed_messages.json: the legacy fixed-\"32\" header")
{
    auto v = fixture("signed_messages.json");
    REQUIRE(v["legacy_sign_string"].size() == 2);
    for (auto const& c : v["legacy_sign_string"]) {
        CAPTURE(c["label"].get<std::string>());
        auto digest = legacy_message_digest(hex(c["message_bytes_hex"]));
        CHECK(to_hex(digest) == c["digest_keccak256_hex"]);
        CHECK(sig_hex(key(c["private_key_hex"]).sign(digest)) == c["signature_hex"]);
        auto r = recover(digest, hex(c["signature_hex"]));
        REQUIRE(r.address);
        CHECK(r.address->base58() == c["recovered_address_base58"]);
    }
}

TEST_CASE("signed_messages.json: TIP-712 Claim vouchers")
{
    auto v = fixture("signed_messages.json");
    REQUIRE(v["tip712_typed_data"].size() == 2);
    for (auto const& c : v["tip712_typed_data"]) {
        CAPTURE(c["label"].get<std::string>());
        TypeMap types;
        for (auto const& [name, fields] : c["types"].items())
            for (auto const& f : fields)
                types[name].push_back({f["name"], f["type"]});
        std::string primary = c["primary_type"];
        CHECK(encode_type(types, primary) == c["encode_type"]);
        CHECK(to_hex(type_hash(types, primary)) == c["type_hash_hex"]);
        // TRON (Base58) and EVM (0x) forms of the same values hash identically.
        for (auto const& [domain, message] :
             {std::pair{c["domain"], c["message"]}, std::pair{c["domain_evm"], c["message_evm"]}}) {
            auto ds = domain_separator(domain);
            REQUIRE(ds.hash);
            CHECK(to_hex(*ds.hash) == c["domain_separator_hex"]);
            auto sh = hash_struct(types, primary, message);
            REQUIRE(sh.hash);
            CHECK(to_hex(*sh.hash) == c["struct_hash_hex"]);
            auto d = typed_data_digest(types, domain, primary, message);
            REQUIRE(d.hash);
            CHECK(to_hex(*d.hash) == c["digest_hex"]);
            auto sig = key(c["private_key_hex"]).sign(*d.hash);
            CHECK(sig_hex(sig) == c["signature_hex"]);
            CHECK(recover(*d.hash, sig).address->base58() == c["recovered_address_base58"]);
        }
        auto bad = c["message"];
        bad.erase("payer");
        auto r = hash_struct(types, primary, bad);
        CHECK_FALSE(r.hash);
        CHECK(r.error.find("payer") != std::string::npos);
        bad = c["message"];
        bad["nonce"] = "18446744073709551616"; // 2^64 does not fit a uint64
        CHECK(hash_struct(types, primary, bad).error.find("uint64") != std::string::npos);
    }
}

TEST_CASE("signed_messages.json: the TIP-120 published signature")
{
    auto c = fixture("signed_messages.json")["tip120_signature_encoding"];
    auto h = hex(c["hash_hex"]);
    Hash32 digest;
    std::copy(h.begin(), h.end(), digest.begin());
    CHECK(sig_hex(key(c["private_key_hex"]).sign(digest)) == c["published_signature_hex"]);
    CHECK(recover(digest, hex(c["published_signature_hex"])).address->hex() ==
          c["published_signature_recovers_to"]);
}

TEST_CASE("private keys: zero and >= n are refused, n-1 is fine")
{
    CHECK_FALSE(PrivateKey::from_bytes(Bytes(32, 0)));
    CHECK_FALSE(PrivateKey::from_bytes(to_word(kN)));
    CHECK_FALSE(PrivateKey::from_bytes(to_word(kN + 1)));
    CHECK_FALSE(PrivateKey::from_bytes(Bytes(32, 0xff)));
    CHECK_FALSE(PrivateKey::from_bytes(Bytes(31, 1)));
    CHECK(PrivateKey::from_bytes(to_word(kN - 1)));
    auto a = PrivateKey::generate(), b = PrivateKey::generate();
    CHECK(a.address() != b.address());
}

TEST_CASE("signatures: tampering, high s and bad v are rejected")
{
    auto k = PrivateKey::generate();
    auto digest = keccak256(view("voucher"));
    auto sig = k.sign(digest);
    auto ok = recover(digest, sig);
    REQUIRE(ok.address);
    CHECK(*ok.address == k.address());

    auto tampered = sig;
    tampered[10] ^= 1;
    auto t = recover(digest, tampered);
    CHECK((!t.address || *t.address != k.address()));

    // (r, n - s, v ^ 1) is the same signature's malleable twin: valid math, refused.
    auto s = from_word(ByteView(sig).subspan(32, 32));
    auto high = sig;
    auto hw = to_word(kN - s);
    std::copy(hw.begin(), hw.end(), high.begin() + 32);
    high[64] = static_cast<std::uint8_t>(27 + ((sig[64] - 27) ^ 1));
    CHECK(recover(digest, high).error == RecoverError::high_s);

    auto bad_v = sig;
    bad_v[64] = 29;
    CHECK(recover(digest, bad_v).error == RecoverError::bad_v);
    auto java_v = sig; // java-tron writes v as 0/1
    java_v[64] = static_cast<std::uint8_t>(sig[64] - 27);
    CHECK(*recover(digest, java_v).address == k.address());
    CHECK(recover(digest, Bytes(64, 1)).error == RecoverError::invalid);
    CHECK(recover(digest, Bytes(65, 0)).error == RecoverError::invalid);
}

TEST_CASE("uint256 amounts: exact range, no wrap-around")
{
    auto max = "115792089237316195423570985008687907853269984665640564039457584007913129639935";
    auto m = parse_uint256(max);
    REQUIRE(m);
    CHECK(to_decimal(*m) == max);
    CHECK(to_hex(to_word(*m)) == std::string(64, 'f'));
    CHECK_FALSE(parse_uint256(
        "115792089237316195423570985008687907853269984665640564039457584007913129639936"));
    CHECK_FALSE(parse_uint256("01"));
    CHECK_FALSE(parse_uint256("-1"));
    CHECK_FALSE(parse_uint256(""));
    CHECK_FALSE(parse_uint256("1e18"));
    CHECK(to_decimal(from_word(to_word(*parse_uint256("18446744073709551616")))) ==
          "18446744073709551616");
    CHECK_THROWS(*m + 1);
    CHECK_THROWS(Uint256(0) - 1);
    // to_decimal works in 19-digit chunks: the edges of a chunk, with inner zeros kept.
    for (auto d :
         {"0", "9", "9999999999999999999", "10000000000000000000",
          "100000000000000000000000000000000000001", "1000000000000000000000000000000000000000"})
        CHECK(to_decimal(*parse_uint256(d)) == d);
}

TEST_CASE("vouchers: the fast Claim digest equals generic TIP-712, and every forgery fails")
{
    auto payer = PrivateKey::generate();
    auto provider = PrivateKey::generate();
    auto hub = *Address::parse("TAR4TE31YKGGMjT97NaFwDuuMj3WhDpK4j");
    VoucherSigner signer({728126428, hub});
    auto amount = *parse_uint256("18446744073709551616"); // 2^64

    TypeMap types = {
        {"Claim", {{"payer", "address"}, {"beneficiary", "address"}, {"cumulative", "uint256"}}}};
    json domain = {{"name", "SeedboxClaimHub"},
                   {"version", "1"},
                   {"chainId", 728126428},
                   {"verifyingContract", hub.base58()}};
    json msg = {{"payer", payer.address().base58()},
                {"beneficiary", provider.address().base58()},
                {"cumulative", "18446744073709551616"}};
    auto generic = typed_data_digest(types, domain, "Claim", msg);
    REQUIRE(generic.hash);
    CHECK(signer.digest(payer.address(), provider.address(), amount) == *generic.hash);
    CHECK(signer.domain_separator() == *domain_separator(domain).hash);

    auto sig = signer.sign(payer, provider.address(), amount);
    using C = VoucherSigner::Check;
    CHECK(signer.verify(payer.address(), provider.address(), amount, sig, 0) == C::ok);
    CHECK(signer.verify(payer.address(), provider.address(), amount, sig, amount) ==
          C::not_increasing); // a replay of the voucher already kept
    CHECK(signer.verify(payer.address(), provider.address(), amount, sig, amount + 1) ==
          C::not_increasing); // a lower cumulative
    CHECK(signer.verify(payer.address(), payer.address(), amount, sig, 0) ==
          C::wrong_signer); // another beneficiary
    CHECK(signer.verify(payer.address(), provider.address(), amount + 1, sig, 0) ==
          C::wrong_signer); // another amount
    auto forged = VoucherSigner({728126428, hub}).sign(provider, provider.address(), amount);
    CHECK(signer.verify(payer.address(), provider.address(), amount, forged, 0) ==
          C::wrong_signer); // signed with the wrong key
    auto other_chain = VoucherSigner({3448148188, hub}).sign(payer, provider.address(), amount);
    CHECK(signer.verify(payer.address(), provider.address(), amount, other_chain, 0) ==
          C::wrong_signer);
    auto other_hub = VoucherSigner({728126428, Address()}).sign(payer, provider.address(), amount);
    CHECK(signer.verify(payer.address(), provider.address(), amount, other_hub, 0) ==
          C::wrong_signer);
    CHECK(signer.verify(payer.address(), provider.address(), amount, Bytes(65, 0), 0) ==
          C::bad_signature);
}

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
