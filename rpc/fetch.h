// Fetches a .torrent over http(s) for torrent.add {url}. Blocking: call from a worker thread.
// Follows up to 5 redirects; a redirect to a magnet: link is returned as `magnet`. HTTPS verifies
// the certificate chain and host name against the system trust store.
#pragma once

#include "daemon/errors.h"

#include <chrono>
#include <string>

namespace seedbox::rpc {

struct Fetched {
    std::string body;
    std::string magnet;
};

[[nodiscard]] daemon::Result<Fetched> fetch_url(std::string const& url, std::size_t max_bytes,
                                                std::chrono::seconds timeout);

// Strict-enough base64 via OpenSSL (whitespace tolerated, bad characters and lengths refused).
[[nodiscard]] bool base64_decode(std::string const& in, std::string& out);
[[nodiscard]] std::string base64_encode(std::string const& in);

} // namespace seedbox::rpc
