#include "daemon/notify.h"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace seedbox::daemon {

Notifier::Notifier()
{
    char const* socket_path = std::getenv("NOTIFY_SOCKET");
    if (socket_path && *socket_path) {
        std::string path = socket_path;
        if (path[0] == '@')
            path[0] = '\0';
        if ((path[0] == '/' || path[0] == '\0') && path.size() < sizeof(sockaddr_un::sun_path)) {
            fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            address_ = path;
        } else {
            spdlog::warn("NOTIFY_SOCKET is neither an absolute path nor @abstract; not notifying");
        }
    }
    char const* usec = std::getenv("WATCHDOG_USEC");
    char const* pid = std::getenv("WATCHDOG_PID");
    if (usec && *usec && (!pid || !*pid || std::strtoll(pid, nullptr, 10) == ::getpid())) {
        auto n = std::strtoll(usec, nullptr, 10);
        if (n > 0)
            watchdog_ = std::chrono::microseconds(n / 2);
    }
}

Notifier::~Notifier()
{
    if (fd_ >= 0)
        ::close(fd_);
}

bool Notifier::send(std::string_view message)
{
    if (fd_ < 0)
        return false;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, address_.data(), address_.size());
    auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address_.size());
    if (::sendto(fd_, message.data(), message.size(), MSG_NOSIGNAL,
                 reinterpret_cast<sockaddr const*>(&addr), len) < 0) {
        spdlog::debug("sd_notify failed: {}", std::strerror(errno));
        return false;
    }
    return true;
}

std::uint64_t Notifier::monotonic_usec()
{
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000u +
           static_cast<std::uint64_t>(ts.tv_nsec) / 1000u;
}

} // namespace seedbox::daemon
