// The btt_pay libtorrent extension. This part counts the payload bytes sent to and received from
// every peer connection, with or without our BEP 10 extension: sent_payload() and on_piece() add
// to the connection's counters, tick() pushes them to Accounting once a second and on_disconnect()
// pushes the rest, so nothing is lost when a peer leaves (libtorrent-notes §1).
// Callbacks run on libtorrent's network thread.
#pragma once

#include "daemon/btt_pay/accounting.h"

#include <libtorrent/extensions.hpp>
#include <memory>

namespace seedbox::daemon {

[[nodiscard]] std::shared_ptr<lt::plugin> make_btt_pay_plugin(std::shared_ptr<Accounting> sink);

} // namespace seedbox::daemon
