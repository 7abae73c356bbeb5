// torrent.add's handler: a .torrent as base64, a magnet link, a URL fetched on the io thread or a
// file read on the slow pool, each ending in the engine's add on an RPC worker.
#pragma once

#include "rpc/method.h"

namespace seedbox::rpc {

[[nodiscard]] json torrent_add(Call& call);

} // namespace seedbox::rpc
