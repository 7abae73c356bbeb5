// uint256 amounts (BTT base units, ABI words). Checked: overflow and underflow throw instead of
// wrapping, so money can never silently wrap around.
#pragma once

#include "ledger/tron/bytes.h"

#include <boost/multiprecision/cpp_int.hpp>

namespace seedbox::tron {

using Uint256 = boost::multiprecision::number<boost::multiprecision::cpp_int_backend<
    256, 256, boost::multiprecision::unsigned_magnitude, boost::multiprecision::checked, void>>;

// Decimal digits only (no sign, no spaces, no leading zeros except "0"); nullopt if over 2^256-1.
[[nodiscard]] std::optional<Uint256> parse_uint256(std::string_view decimal);
[[nodiscard]] std::string to_decimal(Uint256 const& v);
[[nodiscard]] Hash32 to_word(Uint256 const& v); // big-endian
[[nodiscard]] Uint256 from_word(ByteView word32);

} // namespace seedbox::tron
