// The btt_pay libtorrent extension.
// Accounting: counts the payload bytes sent to and received from every peer connection, with or
// without our BEP 10 extension: sent_payload() and on_piece() add to the connection's counters,
// tick() pushes them to Accounting once a second and on_disconnect() pushes the rest, so nothing
// is lost when a peer leaves (libtorrent-notes §1).
// Identity and payments (when we have a key, see payments.h): the extended handshake carries {v,
// addr, nonce, chain, hub, price, pays}; each side then sends {t:"hello", sig} proving its addr
// over the other's nonce. Until a hello verifies, the peer is anonymous. Messages over 1 KiB,
// malformed or out of order are dropped (and answered with {t:"reject"}) without touching the
// connection's accounting. Vouchers, acks and owed messages are handled by Payments; a payer holds
// a finished connection open (can_disconnect) until the voucher for its last bytes is acknowledged,
// at most 10 s. Callbacks run on libtorrent's network thread.
#pragma once

#include "daemon/btt_pay/accounting.h"
#include "daemon/btt_pay/payments.h"

#include <libtorrent/extensions.hpp>
#include <libtorrent/peer_connection_handle.hpp>
#include <memory>

namespace seedbox::daemon {

inline constexpr int kBttPayMessageId = 37;      // our local BEP 10 id (libtorrent uses 1-8)
inline constexpr std::size_t kMaxMessage = 1024; // design.md §6: every message under 1 KiB

// One connection's side of the extension (what the torrent plugin attaches to each peer). A
// handle without a connection is allowed: nothing is sent, and the messages it is fed are decoded
// and acted on as usual (tests/fuzz/btt_pay_fuzz.cpp).
[[nodiscard]] std::shared_ptr<lt::peer_plugin>
make_btt_pay_peer(lt::peer_connection_handle const& pc, std::string torrent,
                  std::shared_ptr<Accounting> sink, std::shared_ptr<Payments> payments);

[[nodiscard]] std::shared_ptr<lt::plugin> make_btt_pay_plugin(std::shared_ptr<Accounting> sink,
                                                              std::shared_ptr<Payments> payments);

} // namespace seedbox::daemon
