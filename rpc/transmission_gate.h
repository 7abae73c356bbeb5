// The HTTP side of /transmission/rpc (the requests themselves are answered by
// rpc/transmission/, which the server is handed at start). The checks, in Transmission's order:
// credentials (HTTP Basic: the configured user name, any when none is, and the RPC token as
// password; seedboxd's own bearer token works too), then the X-Transmission-Session-Id handshake
// (for every HTTP method: Sonarr and Flood fetch the id with a bare GET), then POST. Host, Origin,
// limits and the brute-force brake are the same as /rpc's and are checked by the HTTP session
// before this.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <string>
#include <string_view>

namespace seedbox::rpc::transmission {

// The protocol versions Transmission 4.1.3 reports, which seedboxd reports as it serves 4.1's
// JSON-RPC form: session-get's rpc-version, rpc-version-minimum and rpc-version-semver (the same
// in both forms), and the X-Transmission-Rpc-Version header of every 409 (the header that makes
// 4.1 clients speak JSON-RPC).
inline constexpr int kRpcVersion = 19;
inline constexpr int kRpcVersionMinimum = 14;
inline constexpr std::string_view kRpcVersionSemver = "6.0.1";

// A fresh session id: 48 random characters of [0-9A-Za-z], as Transmission makes them. Kept
// for the daemon's lifetime (clients cache it; Sonarr for as long as it runs).
[[nodiscard]] std::string new_session_id();

enum class Gate {
    pass,              // run the request
    ask_credentials,   // no credentials (or empty ones): 401 with the Basic challenge; not a
                       // failed login
    wrong_credentials, // 401 too, and counted by the brute-force brake
    stale_session,     // 409 with the current session id
    not_post,          // 405
};

// The credentials were right (whatever else the gate said).
[[nodiscard]] inline bool signed_in(Gate g)
{
    return g != Gate::ask_credentials && g != Gate::wrong_credentials;
}

struct GateInput {
    std::string_view authorization; // the Authorization header
    std::string_view session_id;    // the X-Transmission-Session-Id header
    bool post = false;
};

[[nodiscard]] Gate gate(GateInput const& in, std::string const& user, std::string const& token,
                        std::string const& session_id);

// The credentials alone (what the web client's files need: they take no session id): pass,
// ask_credentials or wrong_credentials, as gate() decides them.
[[nodiscard]] Gate credentials(std::string_view authorization, std::string const& user,
                               std::string const& token);

// The answer to a request the gate stopped: 401 with `WWW-Authenticate: Basic
// realm="Transmission"`, 409 with the session id in X-Transmission-Session-Id, or 405; small
// HTML bodies, as Transmission sends them.
[[nodiscard]] boost::beast::http::response<boost::beast::http::string_body>
gate_response(Gate g, unsigned version, bool keep_alive, std::string const& session_id);

} // namespace seedbox::rpc::transmission
