#include "ledger/tron/address.h"

#include "ledger/tron/base58.h"

#include <algorithm>

namespace seedbox::tron {

Address::Address(std::array<std::uint8_t, 20> evm) : evm_(evm) {}

std::optional<Address> Address::parse(std::string_view text, std::string* why)
{
    auto fail = [why](char const* reason) -> std::optional<Address> {
        if (why)
            *why = reason;
        return std::nullopt;
    };
    std::optional<Bytes> raw;
    if (text.size() == 42 && (text.starts_with("41"))) {
        raw = from_hex(text);
        if (!raw)
            return fail("not hex");
    } else if (text.size() == 34) {
        if (!base58_decode(text))
            return fail("not Base58");
        raw = base58check_decode(text);
        if (!raw)
            return fail("Base58Check checksum mismatch");
    } else {
        return fail("a TRON address is 34 Base58 characters or 42 hex digits starting with 41");
    }
    if (raw->size() != 21)
        return fail("the address is not 21 bytes");
    if ((*raw)[0] != kPrefix)
        return fail("the address prefix byte is not 0x41");
    std::array<std::uint8_t, 20> evm;
    std::copy(raw->begin() + 1, raw->end(), evm.begin());
    return Address(evm);
}

std::optional<Address> Address::from_public_key(ByteView pub)
{
    if (pub.size() != 65 || pub[0] != 0x04)
        return std::nullopt;
    auto h = keccak256(pub.subspan(1));
    std::array<std::uint8_t, 20> evm;
    std::copy(h.begin() + 12, h.end(), evm.begin());
    return Address(evm);
}

std::array<std::uint8_t, 21> Address::bytes() const
{
    std::array<std::uint8_t, 21> out;
    out[0] = kPrefix;
    std::copy(evm_.begin(), evm_.end(), out.begin() + 1);
    return out;
}

std::string Address::base58() const
{
    auto b = bytes();
    return base58check_encode(b);
}

std::string Address::hex() const
{
    auto b = bytes();
    return to_hex(b);
}

Hash32 Address::abi_word() const
{
    Hash32 w{};
    std::copy(evm_.begin(), evm_.end(), w.begin() + 12);
    return w;
}

} // namespace seedbox::tron
