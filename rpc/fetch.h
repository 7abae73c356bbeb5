// HTTP(S) client pieces: torrent.add {url} (asynchronous, SSRF-safe) and the TRON node transport
// (blocking, for the settlement thread and slow jobs). HTTPS verifies the certificate chain and
// host name against the system trust store.
#pragma once

#include "daemon/base/errors.h"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace seedbox::rpc {

// An absolute http:// or https:// URL as the fetchers use it.
struct Url {
    bool tls = false;
    std::string host;   // without brackets for IPv6 literals
    std::string port;   // always set ("80"/"443" by default)
    std::string target; // path and query, at least "/"
    std::string text;   // the whole URL, fragment dropped
};

// Parses `text` (RFC 3986, via uriparser) as an http(s) URL, resolving it against `base` when it
// is a relative reference (a redirect's Location). Refuses control characters, whitespace, user
// info ("user:pass@") and empty hosts. Errc::invalid_argument with the reason.
[[nodiscard]] daemon::Result<Url> parse_http_url(std::string const& text,
                                                 Url const* base = nullptr);

// True for addresses on the public internet; false for loopback, private (RFC 1918, ULA),
// shared (CGNAT), link-local, multicast, unspecified, documentation, benchmarking and other
// reserved ranges, including IPv4 addresses embedded in IPv6 (mapped, NAT64, 6to4).
[[nodiscard]] bool is_public_address(boost::asio::ip::address const& a);

struct Fetched {
    std::string body;
    std::string magnet;
};

struct FetchPolicy {
    std::size_t max_bytes = 10u << 20;
    std::chrono::milliseconds timeout{30'000}; // overall: resolving, connecting, redirects
    bool allow_private = false;                // torrent.url_allow_private
    int max_redirects = 3;
};

// Fetches a .torrent from `url` on `ex` without blocking it (resolve, connect, TLS, read are all
// asynchronous). Every hop's host is resolved and its addresses checked against the policy
// before connecting, and only the checked addresses are dialled. A redirect to a magnet: link is
// returned as `magnet`. `done` is called exactly once, on `ex`, by the overall deadline at the
// latest. Refusals by policy carry their reason; every network failure (DNS, refused, reset,
// timeout, TLS, an HTTP status other than 200) gives one uniform message and logs the details.
void fetch_url(boost::asio::any_io_executor ex, std::string const& url, FetchPolicy const& policy,
               std::function<void(daemon::Result<Fetched>)> done);

struct HttpReply {
    int status = 0;
    std::string body;
};
// POSTs a JSON body (Content-Type: application/json) with extra headers. Blocking: call from the
// settlement thread or a slow job, never an RPC worker or the io thread. No redirects. Transport
// failures and timeouts are errors; any HTTP status is a reply.
[[nodiscard]] daemon::Result<HttpReply>
post_json(std::string const& url, std::string body,
          std::vector<std::pair<std::string, std::string>> headers, std::size_t max_bytes,
          std::chrono::milliseconds timeout);

} // namespace seedbox::rpc
