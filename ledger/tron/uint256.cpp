#include "ledger/tron/uint256.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <string>

namespace seedbox::tron {

std::optional<Uint256> parse_uint256(std::string_view s)
{
    if (s.empty() || s.size() > 78 || (s.size() > 1 && s.front() == '0') ||
        !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::nullopt;
    if (s.size() <= 19) { // fits in 64 bits: skip the generic big-number loop
        std::uint64_t small = 0;
        std::from_chars(s.data(), s.data() + s.size(), small);
        return Uint256(small);
    }
    Uint256 v = 0;
    try {
        for (char c : s)
            v = v * 10 + static_cast<unsigned>(c - '0');
    } catch (std::exception const&) {
        return std::nullopt; // above 2^256 - 1
    }
    return v;
}

// Nineteen digits at a time (10^19 < 2^64). Not Uint256::str(): at -O3, GCC 12 rejects Boost's
// string building there with a false -Wrestrict (GCC bug 105329), failing -Werror builds.
std::string to_decimal(Uint256 const& v)
{
    constexpr std::uint64_t kChunk = 10'000'000'000'000'000'000ULL;
    std::uint64_t parts[5]; // 2^256 has 78 digits: at most 5 chunks
    std::size_t n = 0;
    Uint256 x = v;
    do {
        parts[n++] = static_cast<std::uint64_t>(x % kChunk);
        x /= kChunk;
    } while (x != 0);
    std::string out = std::to_string(parts[n - 1]);
    while (n-- > 1) {
        auto digits = std::to_string(parts[n - 1]);
        out.append(19 - digits.size(), '0');
        out += digits;
    }
    return out;
}

Hash32 to_word(Uint256 const& v)
{
    Hash32 out{};
    Uint256 x = v;
    for (std::size_t i = 32; i-- > 0;) {
        out[i] = static_cast<std::uint8_t>(static_cast<unsigned>(x & 0xff));
        x >>= 8;
    }
    return out;
}

Uint256 from_word(ByteView word)
{
    Uint256 v = 0;
    for (auto b : word.first(std::min<std::size_t>(32, word.size())))
        v = (v << 8) | b;
    return v;
}

} // namespace seedbox::tron
