#include "ledger/tron/base58.h"

#include <algorithm>

namespace seedbox::tron {

namespace {
constexpr std::string_view kAlphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
}

std::string base58_encode(ByteView data)
{
    auto zeros = static_cast<std::size_t>(
        std::find_if(data.begin(), data.end(), [](std::uint8_t b) { return b != 0; }) -
        data.begin());
    // Base-256 to base-58 by repeated division over a little-endian digit buffer.
    std::vector<std::uint8_t> digits((data.size() - zeros) * 138 / 100 + 1, 0);
    std::size_t used = 0;
    for (auto it = data.begin() + static_cast<std::ptrdiff_t>(zeros); it != data.end(); ++it) {
        unsigned carry = *it;
        std::size_t i = 0;
        for (; i < used || carry; ++i) {
            carry += 256u * digits[i];
            digits[i] = static_cast<std::uint8_t>(carry % 58);
            carry /= 58;
        }
        used = i;
    }
    std::string out(zeros, '1');
    for (std::size_t i = used; i-- > 0;)
        out += kAlphabet[digits[i]];
    return out;
}

std::optional<Bytes> base58_decode(std::string_view text)
{
    auto zeros = static_cast<std::size_t>(
        std::find_if(text.begin(), text.end(), [](char c) { return c != '1'; }) - text.begin());
    std::vector<std::uint8_t> bytes(text.size() * 733 / 1000 + 1, 0); // little-endian base 256
    std::size_t used = 0;
    for (auto c : text.substr(zeros)) {
        auto pos = kAlphabet.find(c);
        if (pos == std::string_view::npos)
            return std::nullopt;
        unsigned carry = static_cast<unsigned>(pos);
        std::size_t i = 0;
        for (; i < used || carry; ++i) {
            carry += 58u * bytes[i];
            bytes[i] = static_cast<std::uint8_t>(carry & 0xff);
            carry >>= 8;
        }
        used = i;
    }
    Bytes out(zeros, 0);
    for (std::size_t i = used; i-- > 0;)
        out.push_back(bytes[i]);
    return out;
}

std::string base58check_encode(ByteView payload)
{
    auto check = sha256(sha256(payload));
    Bytes full(payload.begin(), payload.end());
    full.insert(full.end(), check.begin(), check.begin() + 4);
    return base58_encode(full);
}

std::optional<Bytes> base58check_decode(std::string_view text)
{
    auto full = base58_decode(text);
    if (!full || full->size() < 4)
        return std::nullopt;
    Bytes payload(full->begin(), full->end() - 4);
    auto check = sha256(sha256(payload));
    if (!std::equal(check.begin(), check.begin() + 4, full->end() - 4))
        return std::nullopt;
    return payload;
}

} // namespace seedbox::tron
