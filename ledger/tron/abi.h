// Solidity ABI for the calls settlement makes (../shared/tron.md §6): an encoder for static
// (address, uint256, bool) and dynamic (bytes, address[], uint256[], bytes[]) parameters with the
// standard head/tail layout, and a bounds-checked reader for results and Error(string) reverts.
// TRON addresses go in as their 20-byte EVM form. Pure functions, any thread.
#pragma once

#include "ledger/tron/address.h"
#include "ledger/tron/uint256.h"

#include <variant>

namespace seedbox::tron {

using AbiValue = std::variant<Address, Uint256, bool, Bytes, std::vector<Address>,
                              std::vector<Uint256>, std::vector<Bytes>>;

// keccak256(signature)[0..4], e.g. "transfer(address,uint256)" -> a9059cbb.
[[nodiscard]] std::array<std::uint8_t, 4> abi_selector(std::string_view signature);
// The parameters alone (what /wallet/triggersmartcontract calls "parameter").
[[nodiscard]] Bytes abi_encode(std::vector<AbiValue> const& args);
// selector || parameters.
[[nodiscard]] Bytes abi_call(std::string_view signature, std::vector<AbiValue> const& args);

// Reads the head/tail encoding of results (constant_result, event data). Every accessor returns
// nullopt instead of reading past the end or following a bad offset.
class AbiReader {
public:
    explicit AbiReader(ByteView data) : data_(data) {}

    [[nodiscard]] std::optional<Uint256> uint(std::size_t slot) const;
    [[nodiscard]] std::optional<bool> boolean(std::size_t slot) const;
    [[nodiscard]] std::optional<Address> address(std::size_t slot) const;
    [[nodiscard]] std::optional<Bytes> bytes(std::size_t slot) const; // also `string`
    [[nodiscard]] std::optional<std::vector<Uint256>> uints(std::size_t slot) const;

private:
    [[nodiscard]] std::optional<Hash32> word_at(std::size_t offset) const;
    [[nodiscard]] std::optional<std::size_t> offset_of(std::size_t slot) const;
    // A dynamic value's content start and its length word.
    [[nodiscard]] std::optional<std::pair<std::size_t, Uint256>> dynamic(std::size_t slot) const;
    ByteView data_;
};

// The message of a revert with Error(string) (selector 08c379a0); nullopt for anything else.
[[nodiscard]] std::optional<std::string> abi_revert_reason(ByteView result);

} // namespace seedbox::tron
