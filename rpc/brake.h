// The wrong-token brake: an address that sends too many wrong tokens (HTTP bearer tokens, WebSocket
// upgrades, auth.login) in a minute is refused for a while, longer each time. Thread-safe.
//
// Addresses are keyed by IPv4 address, or by IPv6 /64 (one host owns a whole /64). At most
// `max_tracked` keys are kept (the least recently failed one is forgotten first), so an attacker
// with many addresses costs bounded memory. Failures are logged at warning, at most one line a
// second with a count of what was not logged, and counted in seedboxd_rpc_auth_failures_total.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace seedbox::rpc {

class AuthBrake {
public:
    using Clock = std::chrono::steady_clock;
    struct Options {
        int failures = 10;                          // wrong tokens within `window` ...
        std::chrono::seconds window{60};            // ... before the address is braked
        std::chrono::seconds first_block{10};       // doubling with each brake ...
        std::chrono::seconds max_block{15 * 60};    // ... up to this
        std::chrono::seconds forget_after{60 * 60}; // an address quiet this long starts afresh
        std::size_t max_tracked = 10'000;
    };

    explicit AuthBrake(Options options, std::function<void()> on_failure = {});

    // Seconds before `address` may try again (0: now).
    [[nodiscard]] std::int64_t retry_after(std::string const& address,
                                           Clock::time_point now = Clock::now());
    // Records a wrong token from `address` (`how`: "HTTP", "WebSocket", "auth.login"); returns
    // the seconds it is now braked for (0: not braked).
    std::int64_t failed(std::string const& address, std::string_view how,
                        Clock::time_point now = Clock::now());

    [[nodiscard]] static std::string key_of(std::string const& address);

private:
    struct Entry {
        int count = 0;
        Clock::time_point window_start;
        Clock::time_point blocked_until;
        Clock::time_point last_failure;
        std::chrono::seconds next_block{0};
        std::list<std::string>::iterator lru;
    };
    void log_failure(std::string const& key, std::string_view how, std::int64_t blocked,
                     Clock::time_point now);

    Options options_;
    std::function<void()> on_failure_;
    std::mutex mutex_;
    std::unordered_map<std::string, Entry> entries_;
    std::list<std::string> lru_; // least recently failed first
    Clock::time_point next_log_{};
    std::uint64_t unlogged_ = 0;
};

} // namespace seedbox::rpc
