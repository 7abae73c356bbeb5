// TIP-712 (EIP-712 for TRON) typed-data hashing: encodeType, hashStruct, the domain separator and
// the digest keccak256(0x19 0x01 || domainSeparator || hashStruct(message)). TRON addresses (Base58
// or 41-hex) are encoded as uint160, as TIP-712 says; 0x-prefixed 20-byte addresses are accepted
// too. Values are JSON: integers as decimal strings or numbers, bytes as hex, strings as UTF-8.
#pragma once

#include "ledger/tron/bytes.h"

#include <map>
#include <nlohmann/json.hpp>

namespace seedbox::tron {

struct TypedField {
    std::string name;
    std::string type;
};
using TypeMap = std::map<std::string, std::vector<TypedField>>;

struct HashOutcome {
    std::optional<Hash32> hash;
    std::string error; // names the field and why, when hash is empty
};

[[nodiscard]] std::string encode_type(TypeMap const& types, std::string const& primary);
[[nodiscard]] Hash32 type_hash(TypeMap const& types, std::string const& primary);
[[nodiscard]] HashOutcome hash_struct(TypeMap const& types, std::string const& primary,
                                      nlohmann::json const& value);
// EIP712Domain built from the keys present: name, version, chainId, verifyingContract, salt.
[[nodiscard]] HashOutcome domain_separator(nlohmann::json const& domain);
[[nodiscard]] HashOutcome typed_data_digest(TypeMap const& types, nlohmann::json const& domain,
                                            std::string const& primary,
                                            nlohmann::json const& message);

} // namespace seedbox::tron
