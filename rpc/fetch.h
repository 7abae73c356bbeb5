// Fetches a .torrent over http(s) for torrent.add {url}. Blocking: call from a worker thread.
// Follows up to 5 redirects; a redirect to a magnet: link is returned as `magnet`. HTTPS verifies
// the certificate chain and host name against the system trust store.
#pragma once

#include "daemon/errors.h"

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace seedbox::rpc {

struct Fetched {
    std::string body;
    std::string magnet;
};

[[nodiscard]] daemon::Result<Fetched> fetch_url(std::string const& url, std::size_t max_bytes,
                                                std::chrono::seconds timeout);

struct HttpReply {
    int status = 0;
    std::string body;
};
// POSTs a JSON body (Content-Type: application/json) with extra headers. Blocking: call from a
// worker thread. No redirects. Transport failures and timeouts are errors; any HTTP status is a
// reply.
[[nodiscard]] daemon::Result<HttpReply>
post_json(std::string const& url, std::string body,
          std::vector<std::pair<std::string, std::string>> headers, std::size_t max_bytes,
          std::chrono::milliseconds timeout);

// Strict-enough base64 via OpenSSL (whitespace tolerated, bad characters and lengths refused).
[[nodiscard]] bool base64_decode(std::string const& in, std::string& out);
[[nodiscard]] std::string base64_encode(std::string const& in);

} // namespace seedbox::rpc
