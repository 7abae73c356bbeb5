// Transport-level security checks for the RPC listener. Pure functions, any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace seedbox::rpc {

// Constant-time comparison (CRYPTO_memcmp over equal lengths; the length itself is not secret).
[[nodiscard]] bool token_equal(std::string_view a, std::string_view b);

// "Bearer <token>" -> token; empty if the header is absent or another scheme.
[[nodiscard]] std::string bearer_token(std::string_view authorization);

// Reads the token file, or creates it (0600, 32 random bytes as hex) when missing. Refuses a
// group/world-readable file. Returns an error message (never containing the token) or empty.
[[nodiscard]] std::string load_or_create_token(std::string const& path, std::string& token,
                                               bool& created);

// Host header check (DNS-rebinding defence): IP literals, loopback names, the bind host and the
// configured extras.
// `host` may carry a port ("localhost:9180", "[::1]:9180").
[[nodiscard]] bool host_allowed(std::string_view host, std::string const& bind_host,
                                std::vector<std::string> const& extra);

// Origin check: absent (non-browser clients), same-origin with the (already checked) Host header,
// or exactly one of the configured origins.
[[nodiscard]] bool origin_allowed(std::string_view origin, std::string_view host,
                                  std::vector<std::string> const& allowed);

[[nodiscard]] bool is_loopback_host(std::string const& host);

} // namespace seedbox::rpc
