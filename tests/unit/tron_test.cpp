// ledger/tron against the reference vectors made with tronweb 6.5.1 (tests/fixtures/tron, copied
// from shared/vectors/tron): every case must match byte for byte. Hashes, keys, addresses,
// signatures, signed messages, TIP-712 and vouchers; transactions and ABI calldata are in
// tron_tx_test.cpp.
#include "ledger/tron/address.h"
#include "ledger/tron/base58.h"
#include "ledger/tron/keys.h"
#include "ledger/tron/message.h"
#include "ledger/tron/typed_data.h"
#include "ledger/tron/uint256.h"
#include "ledger/tron/voucher.h"
#include "tron_fixtures.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

using namespace seedbox::tron;
using json = nlohmann::json;
using seedbox::test::fixture;
using seedbox::test::hex;
using seedbox::test::key;

namespace {

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
