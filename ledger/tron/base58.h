// Bitcoin-alphabet Base58 and Base58Check (4-byte double-SHA-256 checksum), as TRON addresses use.
#pragma once

#include "ledger/tron/bytes.h"

namespace seedbox::tron {

[[nodiscard]] std::string base58_encode(ByteView data);
[[nodiscard]] std::optional<Bytes> base58_decode(std::string_view text);

[[nodiscard]] std::string base58check_encode(ByteView payload);
// nullopt on a bad character or a checksum mismatch.
[[nodiscard]] std::optional<Bytes> base58check_decode(std::string_view text);

} // namespace seedbox::tron
