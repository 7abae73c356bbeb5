// The sd_notify protocol (READY=1, STATUS=, STOPPING=1, RELOADING=1, WATCHDOG=1) written by hand:
// one datagram per message to the unix socket in $NOTIFY_SOCKET (a path, or "@name" for the
// abstract namespace). Without $NOTIFY_SOCKET (not under systemd, or Type=simple) it does nothing.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace seedbox::daemon {

class Notifier {
public:
    // Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID from the environment.
    Notifier();
    ~Notifier();
    Notifier(Notifier const&) = delete;
    Notifier& operator=(Notifier const&) = delete;

    [[nodiscard]] bool enabled() const { return fd_ >= 0; }
    // Sends one message ("READY=1\nSTATUS=..."); false (and nothing else) if it could not.
    bool send(std::string_view message);

    // How often to send WATCHDOG=1 (half of WatchdogSec), when systemd asked this process for it.
    [[nodiscard]] std::optional<std::chrono::microseconds> watchdog_interval() const
    {
        return watchdog_;
    }

    // CLOCK_MONOTONIC in microseconds, for "RELOADING=1\nMONOTONIC_USEC=...".
    [[nodiscard]] static std::uint64_t monotonic_usec();

private:
    int fd_ = -1;
    std::string address_; // sockaddr_un.sun_path bytes (leading NUL for abstract)
    std::optional<std::chrono::microseconds> watchdog_;
};

} // namespace seedbox::daemon
