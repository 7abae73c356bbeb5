// seedboxctl's event loops over the daemon's WebSocket: `watch` prints each event, `top` keeps a
// live screen of the torrents.
#pragma once

#include "rpc/ctl/client.h"

#include <string>
#include <vector>

namespace seedbox::ctl {

// Prints events (all when events is empty) until count of them (count <= 0: until the daemon
// closes the stream or Ctrl-C).
void run_watch(Client& c, std::vector<std::string> const& events, int count, bool json_out);
// Live view: the list once, then torrent.stats/added/removed events; at most one screen a second.
// Stops after refreshes screens (<= 0: never).
void run_top(Client& c, int refreshes);

} // namespace seedbox::ctl
