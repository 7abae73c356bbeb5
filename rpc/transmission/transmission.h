// Transmission's RPC over the daemon's own engine, in both of Transmission 4.1's forms on one path:
// the legacy {method, arguments, tag} form (docs/rpc-spec.md of Transmission 4.0) and 4.1's
// JSON-RPC 2.0 form with snake_case names, translated onto the legacy handlers (jsonrpc.cpp,
// names.cpp). So the clients seedbox users already run (Sonarr, Radarr, Flood,
// transmission-remote, Transmission's web client) can drive seedboxd. A translation layer: every
// Transmission field and argument maps onto a TorrentView field or an engine call
// (torrent_fields.cpp holds the one field table). The HTTP side (Basic auth, the
// X-Transmission-Session-Id handshake) is rpc/transmission_gate.h; seedboxd's run_app hands
// handle() to the server.
#pragma once

#include "rpc/method.h"
#include "rpc/transmission_gate.h"

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace seedbox::rpc::transmission {

// The protocol versions (kRpcVersion, ...) are in rpc/transmission_gate.h, which the HTTP side
// shares.

// Answers one request body, legacy or JSON-RPC, with the response body, sent with HTTP 200
// whatever the result; or with nothing (a JSON-RPC notification, or a batch of only
// notifications), which Transmission 4.1 sends as "204 No Content" with an empty body.
// Runs on an RPC worker; never throws.
[[nodiscard]] std::optional<std::string> respond(Context& ctx, std::string_view body);

// respond() for the HTTP layer, on an RPC worker: there at once, or, when the request calls a
// method that may block (fetching a URL, reading a file, renaming on disk, reading blocklists),
// on the slow pool (Context::offload). `done` gets the answer exactly once, on the thread that
// made it; a full slow pool answers that the daemon is busy.
using Answer = std::function<void(std::optional<std::string>)>;
void respond_async(Context& ctx, std::string body, Answer done);

// respond()'s body, empty when there is nothing to answer (an answer is never empty).
[[nodiscard]] std::string handle(Context& ctx, std::string_view body);

// The version Transmission clients are shown and check ("4.1.3 (seedboxd 0.1.0)", as
// Transmission 4.1.3 whose protocol it speaks: Sonarr wants a major.minor of at least 2.40, and 4.0
// for labels).
[[nodiscard]] std::string version_string();

} // namespace seedbox::rpc::transmission
