#include "ledger/tron/uint256.h"

#include <algorithm>
#include <charconv>

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

std::string to_decimal(Uint256 const& v)
{
    return v.str();
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
