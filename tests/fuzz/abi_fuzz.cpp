// Fuzz target: the Solidity ABI reader (ledger/tron/abi.h) on bytes a TRON node hands back. The
// input is a contract call result: constant_result[0] of /wallet/triggerconstantcontract (what
// settlement reads with AbiReader(...).uint(0) for decimals(), paid(), balanceOf(), deposits(),
// ...), the Error(string) revert Node::constant_call decodes, or the data of a Claimed/Skipped log
// (uint(0..2)). Every accessor runs on the first slots and on the slots around the end of the data,
// on the whole input and on the input after a 4-byte selector.
// Checks beyond "no crash": each accessor agrees with a plain re-read of the same bytes (a value
// only when the word, or the whole tail its offset names, lies inside the input, and then exactly
// those bytes); uints() succeeding implies bytes() succeeds on the same slot; a revert reason is
// the string its Error(string) encoding holds and fits in the input. Then, from values built out of
// the same fuzz bytes: abi_encode followed by AbiReader gives back every value (bytes[] elements
// included), and abi_call("Error(string)", {msg}) decodes to msg with abi_revert_reason.
#include "ledger/tron/abi.h"
#include "tests/fuzz/fuzz.h"

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>

namespace {

using namespace seedbox::tron;

constexpr std::size_t kWord = 32;

using seedbox::fuzz::fail;
using seedbox::fuzz::require;

// The plain readings the reader must agree with.
std::optional<Uint256> word(ByteView d, std::size_t offset)
{
    if (offset > d.size() || d.size() - offset < kWord)
        return std::nullopt;
    return from_word(d.subspan(offset, kWord));
}

// Where a dynamic value's content starts and its length word, from the offset in `slot`.
std::optional<std::pair<std::size_t, Uint256>> tail(ByteView d, std::size_t slot)
{
    auto off = word(d, slot * kWord);
    if (!off || *off > d.size())
        return std::nullopt;
    auto at = static_cast<std::size_t>(*off);
    auto len = word(d, at);
    if (!len)
        return std::nullopt;
    return std::make_pair(at + kWord, *len);
}

void check_slot(ByteView d, std::size_t slot)
{
    AbiReader const r(d);
    auto const w = word(d, slot * kWord);

    auto const u = r.uint(slot);
    require(u.has_value() == w.has_value(), "uint(): a value exactly when the word is inside");
    require(!u || *u == *w, "uint(): not the word at slot * 32");

    auto const b = r.boolean(slot);
    require(b.has_value() == (w && *w <= 1), "boolean(): a value exactly for a word of 0 or 1");
    require(!b || *b == (*w == 1), "boolean(): wrong value");

    auto const a = r.address(slot);
    require(a.has_value() == (w && (*w >> 160) == 0),
            "address(): a value exactly when the top 12 bytes are zero");
    require(!a || from_word(a->abi_word()) == *w, "address(): does not round-trip to its word");

    auto const t = tail(d, slot);
    auto const bytes = r.bytes(slot);
    require(bytes.has_value() == (t && t->second <= d.size() - t->first),
            "bytes(): a value exactly when the whole tail is inside");
    if (bytes) {
        require(bytes->size() <= d.size() && t->second == bytes->size(),
                "bytes(): length differs from the length word");
        require(std::equal(bytes->begin(), bytes->end(),
                           d.begin() + static_cast<std::ptrdiff_t>(t->first)),
                "bytes(): content differs from the tail");
    }

    auto const us = r.uints(slot);
    require(us.has_value() == (t && t->second <= (d.size() - t->first) / kWord),
            "uints(): a value exactly when every element word is inside");
    if (us) {
        require(bytes.has_value(), "uints() succeeded where bytes() failed on the same slot");
        require(us->size() * kWord <= d.size() && t->second == us->size(),
                "uints(): count differs from the length word");
        for (std::size_t i = 0; i < us->size(); ++i)
            require((*us)[i] == *word(d, t->first + i * kWord), "uints(): wrong element");
    }
}

void check_reader(ByteView d)
{
    auto const words = d.size() / kWord;
    for (std::size_t slot = 0; slot < std::min<std::size_t>(words + 1, 8); ++slot)
        check_slot(d, slot);
    for (std::size_t slot = words > 0 ? words - 1 : 0; slot <= words + 1; ++slot)
        check_slot(d, slot);
}

void check_revert(ByteView d)
{
    static auto const sel = abi_selector("Error(string)");
    auto const reason = abi_revert_reason(d);
    bool const has_sel = d.size() >= 4 && std::memcmp(d.data(), sel.data(), 4) == 0;
    if (!has_sel) {
        require(!reason, "abi_revert_reason(): a reason without the 08c379a0 selector");
        return;
    }
    auto const params = d.subspan(4);
    auto const msg = AbiReader(params).bytes(0);
    require(reason.has_value() == msg.has_value(),
            "abi_revert_reason() disagrees with bytes(0) after the selector");
    if (reason) {
        // Not size + 2 words: an offset of 0 makes the offset word double as the length word,
        // which the reader accepts (as Solidity's decoder does) and the fuzzer found at once.
        require(reason->size() <= params.size(), "revert reason longer than its input");
        require(*reason == std::string(msg->begin(), msg->end()),
                "revert reason differs from its encoded string");
    }
}

Uint256 make_uint(FuzzedDataProvider& p)
{
    // Right-aligned so short inputs give the small numbers results usually hold.
    Hash32 w{};
    auto const b = p.ConsumeBytes<std::uint8_t>(p.ConsumeIntegralInRange<std::size_t>(0, kWord));
    std::copy(b.begin(), b.end(), w.end() - static_cast<std::ptrdiff_t>(b.size()));
    return from_word(w);
}

Address make_address(FuzzedDataProvider& p)
{
    std::array<std::uint8_t, 20> evm{};
    auto const b = p.ConsumeBytes<std::uint8_t>(evm.size());
    std::copy(b.begin(), b.end(), evm.begin());
    return Address(evm);
}

Bytes make_bytes(FuzzedDataProvider& p)
{
    return p.ConsumeBytes<std::uint8_t>(p.ConsumeIntegralInRange<std::size_t>(0, 80));
}

template <class T, class F> std::vector<T> make_list(FuzzedDataProvider& p, F make)
{
    std::vector<T> out(p.ConsumeIntegralInRange<std::size_t>(0, 5));
    for (auto& v : out)
        v = make(p);
    return out;
}

AbiValue make_value(FuzzedDataProvider& p)
{
    switch (p.ConsumeIntegralInRange<int>(0, 6)) {
    case 0:
        return AbiValue(std::in_place_type<Address>, make_address(p));
    case 1:
        return AbiValue(std::in_place_type<Uint256>, make_uint(p));
    case 2:
        return AbiValue(std::in_place_type<bool>, p.ConsumeBool());
    case 3:
        return AbiValue(std::in_place_type<Bytes>, make_bytes(p));
    case 4:
        return AbiValue(std::in_place_type<std::vector<Address>>,
                        make_list<Address>(p, make_address));
    case 5:
        return AbiValue(std::in_place_type<std::vector<Uint256>>, make_list<Uint256>(p, make_uint));
    default:
        return AbiValue(std::in_place_type<std::vector<Bytes>>, make_list<Bytes>(p, make_bytes));
    }
}

void check_decoded(AbiReader const& r, ByteView enc, std::size_t i, AbiValue const& v)
{
    if (auto a = std::get_if<Address>(&v)) {
        require(r.address(i) == *a, "round trip: address");
    } else if (auto u = std::get_if<Uint256>(&v)) {
        require(r.uint(i) == *u, "round trip: uint256");
    } else if (auto b = std::get_if<bool>(&v)) {
        require(r.boolean(i) == *b, "round trip: bool");
    } else if (auto bs = std::get_if<Bytes>(&v)) {
        require(r.bytes(i) == *bs, "round trip: bytes");
    } else if (auto us = std::get_if<std::vector<Uint256>>(&v)) {
        require(r.uints(i) == *us, "round trip: uint256[]");
    } else if (auto as = std::get_if<std::vector<Address>>(&v)) {
        auto got = r.uints(i);
        require(got && got->size() == as->size(), "round trip: address[] length");
        for (std::size_t k = 0; k < as->size(); ++k)
            require((*got)[k] == from_word((*as)[k].abi_word()), "round trip: address[] element");
    } else {
        // bytes[]: no accessor of its own; its element offsets count from just after the length
        // word, so a reader over that part reads each element as bytes(k).
        auto const& list = std::get<std::vector<Bytes>>(v);
        auto off = r.uint(i);
        require(off && *off + kWord <= enc.size(), "round trip: bytes[] offset");
        auto const at = static_cast<std::size_t>(*off);
        require(AbiReader(enc.subspan(at)).uint(0) == Uint256(list.size()),
                "round trip: bytes[] length");
        AbiReader const elements(enc.subspan(at + kWord));
        for (std::size_t k = 0; k < list.size(); ++k)
            require(elements.bytes(k) == list[k], "round trip: bytes[] element");
    }
}

void check_round_trip(FuzzedDataProvider& p)
{
    std::vector<AbiValue> args(p.ConsumeIntegralInRange<std::size_t>(0, 6));
    for (auto& v : args)
        v = make_value(p);
    auto const enc = abi_encode(args);
    require(enc.size() % kWord == 0 && enc.size() >= args.size() * kWord,
            "abi_encode(): not whole words, or a head shorter than one word per argument");
    bool const all_static = std::all_of(args.begin(), args.end(), [](AbiValue const& v) {
        return std::holds_alternative<Address>(v) || std::holds_alternative<Uint256>(v) ||
               std::holds_alternative<bool>(v);
    });
    require(!all_static || enc.size() == args.size() * kWord, "abi_encode(): static args padded");
    AbiReader const r(enc);
    for (std::size_t i = 0; i < args.size(); ++i)
        check_decoded(r, enc, i, args[i]);

    auto const msg = p.ConsumeRandomLengthString(200);
    auto const revert = abi_call("Error(string)", {Bytes(msg.begin(), msg.end())});
    require(abi_revert_reason(revert) == msg, "round trip: Error(string) revert reason");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size)
{
    try {
        ByteView const d(data, size);
        check_reader(d);
        if (d.size() >= 4)
            check_reader(d.subspan(4)); // calldata or a revert: the parameters after a selector
        check_revert(d);
        FuzzedDataProvider p(data, size);
        check_round_trip(p);
    } catch (std::exception const& e) {
        // Pure functions over bounded input: an exception is a bug (e.g. a checked Uint256
        // overflow or a narrowing conversion that throws).
        std::fprintf(stderr, "abi_fuzz: unexpected exception: %s\n", e.what());
        fail("exception");
    }
    return 0;
}
