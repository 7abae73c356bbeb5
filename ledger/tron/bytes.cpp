#include "ledger/tron/bytes.h"

#include <cryptopp/keccak.h>
#include <cryptopp/sha.h>

namespace seedbox::tron {

std::string to_hex(ByteView bytes)
{
    static char const digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (auto b : bytes) {
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    return out;
}

std::optional<Bytes> from_hex(std::string_view hex)
{
    if (hex.starts_with("0x") || hex.starts_with("0X"))
        hex.remove_prefix(2);
    if (hex.size() % 2)
        return std::nullopt;
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9')
            return c - '0';
        if (c >= 'a' && c <= 'f')
            return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
            return c - 'A' + 10;
        return -1;
    };
    Bytes out(hex.size() / 2);
    for (std::size_t i = 0; i < out.size(); ++i) {
        int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return std::nullopt;
        out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
    }
    return out;
}

Hash32 keccak256(ByteView data)
{
    Hash32 out;
    CryptoPP::Keccak_256 h;
    h.CalculateDigest(out.data(), data.data(), data.size());
    return out;
}

Hash32 sha256(ByteView data)
{
    Hash32 out;
    CryptoPP::SHA256 h;
    h.CalculateDigest(out.data(), data.data(), data.size());
    return out;
}

} // namespace seedbox::tron
