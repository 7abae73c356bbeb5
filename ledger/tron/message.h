// TIP-104 signed messages: keccak256("\x19TRON Signed Message:\n" || decimal length || message),
// and the legacy form with "32" hard-coded whatever the length (tronweb trx.sign(hex)).
#pragma once

#include "ledger/tron/keys.h"

namespace seedbox::tron {

[[nodiscard]] Hash32 message_digest(ByteView message);
[[nodiscard]] Hash32 legacy_message_digest(ByteView message);
[[nodiscard]] Signature sign_message(PrivateKey const& key, ByteView message);
[[nodiscard]] Recovered recover_message(ByteView message, ByteView signature);

} // namespace seedbox::tron
