// Transmission's RPC (docs/rpc-spec.md of Transmission 4.0: rpc-version 17, the
// {method, arguments, tag} form) over the daemon's own engine, so the clients seedbox users
// already run (Sonarr, Radarr, Flood, transmission-remote, Transmission's web client) can drive
// seedboxd. A translation layer: every Transmission field and argument maps onto a TorrentView
// field or an engine call (torrent_fields.cpp holds the one field table). The HTTP side (Basic
// auth, the X-Transmission-Session-Id handshake) is rpc/transmission_gate.h; seedboxd's run_app
// hands handle() to the server.
#pragma once

#include "rpc/method.h"

#include <string>
#include <string_view>

namespace seedbox::rpc::transmission {

// Answers one request body with the response body (sent with HTTP 200, whatever the result).
// Runs on an RPC worker; never throws.
[[nodiscard]] std::string handle(Context& ctx, std::string_view body);

// The version Transmission clients are shown and check ("4.0.6 (seedboxd 0.1.0)": Sonarr wants a
// major.minor of at least 2.40, and 4.0 for labels).
[[nodiscard]] std::string version_string();

} // namespace seedbox::rpc::transmission
