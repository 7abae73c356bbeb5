// Byte strings, hex, and the hashes TRON uses (Keccak-256 for keys and messages, SHA-256 for
// transaction ids and Base58Check). Pure functions, any thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace seedbox::tron {

using Bytes = std::vector<std::uint8_t>;
using Hash32 = std::array<std::uint8_t, 32>;
using ByteView = std::span<std::uint8_t const>;

[[nodiscard]] std::string to_hex(ByteView bytes);
// Accepts an optional "0x" prefix; nullopt on odd length or a non-hex character.
[[nodiscard]] std::optional<Bytes> from_hex(std::string_view hex);
[[nodiscard]] inline ByteView view(std::string_view s)
{
    return {reinterpret_cast<std::uint8_t const*>(s.data()), s.size()};
}

// Ethereum-style Keccak-256 (padding 0x01), which is not SHA3-256.
[[nodiscard]] Hash32 keccak256(ByteView data);
[[nodiscard]] Hash32 sha256(ByteView data);

} // namespace seedbox::tron
