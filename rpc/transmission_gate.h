// The HTTP side of /transmission/rpc (the requests themselves are answered by
// rpc/transmission/, which the server is handed at start). The checks, in Transmission's order:
// credentials (HTTP Basic: the configured user name, any when none is, and the RPC token or
// transmission.password as password; seedboxd's own bearer token works too), then the
// X-Transmission-Session-Id handshake, then POST. Host, Origin,
// limits and the brute-force brake are the same as /rpc's and are checked by the HTTP session
// before this.
#pragma once

#include "config/password_hash.h"

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

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
    check_password,    // transmission.password must decide: PasswordCheck::check_later, off
                       // the io thread
    busy,              // 503: too many password checks at once (or scrypt failed)
    stale_session,     // 409 with the current session id
    not_post,          // 405
};

// transmission.password, checked: scrypt costs 0.1-0.2 s and a client sends its password with
// every request, so the password, once found right, is remembered (as an HMAC under a key made
// at start, never in clear) and later requests pass at once. Requests that arrive with the same
// password while it is being checked (a browser loading the web client, Sonarr's first calls)
// wait for that one check. Thread-safe; held by shared_ptr.
class PasswordCheck : public std::enable_shared_from_this<PasswordCheck> {
public:
    using Answer = std::function<void(Gate)>;
    using Offload = std::function<bool(std::function<void()>)>;

    explicit PasswordCheck(config::PasswordHash hash);
    PasswordCheck(PasswordCheck const&) = delete;
    PasswordCheck& operator=(PasswordCheck const&) = delete;

    // Whether `password` is the one found right before: fast, constant-time.
    [[nodiscard]] bool remembered(std::string_view password) const;

    // Decides `password`, sent from `address`: `offload` is handed the scrypt job (false = it
    // could not be queued), and `answer` gets pass or wrong_credentials from that job's thread,
    // or busy (from this thread or that one) when kMaxDistinct other passwords are being checked
    // already, `address` is waiting for another password's check (one at a time from each),
    // the job could not be queued or was dropped unrun, or scrypt failed.
    void check_later(std::string password, std::string const& address, Offload const& offload,
                     Answer answer);

    // Passwords checked at once (each takes scrypt's memory, 32 MiB by default).
    static constexpr std::size_t kMaxDistinct = 2;

private:
    [[nodiscard]] std::string digest(std::string_view password) const;
    void answer_all(std::string const& digest, Gate g);

    config::PasswordHash const hash_;
    std::string key_;
    mutable std::mutex mutex_;
    std::string known_; // digest of the password found right; empty = none yet
    struct Pending {
        std::vector<Answer> answers;     // the requests waiting for this check
        std::set<std::string> addresses; // where they came from
    };
    std::map<std::string, Pending> waiting_;        // digest -> its check
    std::map<std::string, std::string> by_address_; // address -> the digest it waits for
};

// Who may sign in: the configured user name (any when empty), the RPC token, and the optional
// transmission.password.
struct Login {
    std::string const& user;
    std::string const& token;
    PasswordCheck const* password = nullptr;
};

// The credentials, first of Transmission's checks (and all the web client's files need): pass,
// ask_credentials, wrong_credentials or, when only transmission.password can decide,
// check_password with the password to check in `to_check`.
[[nodiscard]] Gate credentials(std::string_view authorization, Login const& login,
                               std::string* to_check);

// Once signed in: the X-Transmission-Session-Id handshake (for every HTTP method: Sonarr and
// Flood fetch the id with a bare GET), then POST: pass, stale_session or not_post.
[[nodiscard]] Gate handshake(std::string_view session_id_header, bool post,
                             std::string const& session_id);

// The credentials were right.
[[nodiscard]] inline bool signed_in(Gate g)
{
    return g == Gate::pass || g == Gate::stale_session || g == Gate::not_post;
}

// The answer to a request the gate stopped: 401 with `WWW-Authenticate: Basic
// realm="Transmission"`, 409 with the session id in X-Transmission-Session-Id, 503 with
// Retry-After, or 405; small HTML bodies, as Transmission sends them.
[[nodiscard]] boost::beast::http::response<boost::beast::http::string_body>
gate_response(Gate g, unsigned version, bool keep_alive, std::string const& session_id);

} // namespace seedbox::rpc::transmission
