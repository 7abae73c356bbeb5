// Who we are to peers that speak btt_pay: the node key and the payment terms we advertise in the
// BEP 10 handshake. Immutable after start-up; shared with libtorrent's network thread.
#pragma once

#include "ledger/tron/keys.h"

namespace seedbox::daemon {

struct PayIdentity {
    tron::PrivateKey key;
    tron::Address address;
    std::int64_t chain_id = 728126428; // TIP-712 chain id (TRON mainnet)
    tron::Address hub;                 // claim-hub contract
    std::string price_per_gib;         // decimal base units we charge as an uploader
};

// The message a peer signs to prove its address: "btt_pay/1" || the other side's nonce || its own
// 21-byte address, hashed as a TIP-104 message.
[[nodiscard]] tron::Bytes hello_payload(tron::ByteView peer_nonce, tron::Address const& signer);

} // namespace seedbox::daemon
