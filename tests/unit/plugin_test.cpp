// The btt_pay peer plugin (daemon/btt_pay/plugin.cpp) driven without a connection, as libtorrent
// would call it: what it counts for the ledger and when it lets a connection close.
#include "daemon/btt_pay/accounting.h"
#include "daemon/btt_pay/plugin.h"

#include <doctest/doctest.h>
#include <libtorrent/error_code.hpp>
#include <libtorrent/peer_connection_handle.hpp>
#include <libtorrent/peer_request.hpp>

using seedbox::daemon::Accounting;
using seedbox::daemon::make_btt_pay_peer;

namespace {

std::int64_t total_up(std::vector<seedbox::ledger::Delta> const& deltas)
{
    std::int64_t up = 0;
    for (auto const& d : deltas)
        up += d.up;
    return up;
}

} // namespace

TEST_CASE("a connection closed by choice waits until every queued block's send is counted")
{
    auto sink = std::make_shared<Accounting>();
    auto peer = make_btt_pay_peer(lt::peer_connection_handle(std::weak_ptr<lt::peer_connection>()),
                                  "torrent", sink, nullptr);
    lt::error_code const redundant = lt::errors::upload_upload_connection;
    CHECK(peer->can_disconnect(redundant)); // nothing queued

    // Two blocks go into the send buffer; libtorrent has reported the first one's send only.
    peer->sent_piece(lt::peer_request{lt::piece_index_t(0), 0, 16384});
    peer->sent_piece(lt::peer_request{lt::piece_index_t(0), 16384, 16384});
    peer->sent_payload(16384);
    CHECK_FALSE(peer->can_disconnect(redundant)); // closing now would drop the second report
    CHECK_FALSE(peer->can_disconnect(lt::errors::timed_out_inactivity));

    peer->sent_payload(10000); // a partial send
    CHECK_FALSE(peer->can_disconnect(redundant));
    peer->sent_payload(6384);
    CHECK(peer->can_disconnect(redundant));

    // Every reported byte reaches the ledger's sink: on the tick and at the disconnect.
    peer->tick();
    CHECK(total_up(sink->take()) == 32768);
    peer->sent_piece(lt::peer_request{lt::piece_index_t(1), 0, 100});
    peer->sent_payload(100);
    peer->on_disconnect(redundant);
    CHECK(total_up(sink->take()) == 100);
}
