// A TRON account or contract address: 0x41 followed by 20 bytes (the Ethereum-style address of the
// key). Shown as Base58Check ("T...", 34 characters) or hex ("41...", 42 characters).
#pragma once

#include "ledger/tron/bytes.h"

#include <compare>

namespace seedbox::tron {

class Address {
public:
    static constexpr std::uint8_t kPrefix = 0x41;

    Address() = default; // the zero address (0x41 and 20 zero bytes)
    explicit Address(std::array<std::uint8_t, 20> evm);

    // Accepts Base58Check ("T...") or hex ("41" + 40 hex digits). Rejects a wrong length, a bad
    // checksum, a bad character or a prefix other than 0x41; `why` says which.
    [[nodiscard]] static std::optional<Address> parse(std::string_view text,
                                                      std::string* why = nullptr);
    // From an uncompressed public key (65 bytes, 0x04 || X || Y).
    [[nodiscard]] static std::optional<Address> from_public_key(ByteView uncompressed);

    [[nodiscard]] std::string base58() const;
    [[nodiscard]] std::string hex() const; // "41..."
    [[nodiscard]] std::array<std::uint8_t, 21> bytes() const;
    [[nodiscard]] std::array<std::uint8_t, 20> const& evm() const { return evm_; }
    // ABI form: the 20 bytes left-padded to a 32-byte word.
    [[nodiscard]] Hash32 abi_word() const;

    auto operator<=>(Address const&) const = default;

private:
    std::array<std::uint8_t, 20> evm_{};
};

} // namespace seedbox::tron
