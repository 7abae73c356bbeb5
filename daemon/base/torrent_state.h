// A torrent's state: one enum, named once, for torrent.list/get, the torrent events and /metrics.
#pragma once

#include <string>
#include <vector>

namespace seedbox::daemon {

// A torrent's state as torrent.list and torrent.get report it; the names are part of the API.
enum class TorrentState {
    loading, // restored from state.db, not yet handed back by libtorrent (after a restart)
    stopped,
    queued,
    checking_resume,
    checking,
    downloading_metadata,
    downloading,
    finished,
    seeding,
    moving,
    error,
    unknown, // a libtorrent state this build does not know; never expected
};
[[nodiscard]] char const* name(TorrentState s);
// Every state name but "unknown", in the order above: the one list the field help, the README
// and /metrics come from.
[[nodiscard]] std::vector<std::string> const& torrent_states();

} // namespace seedbox::daemon
