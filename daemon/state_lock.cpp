#include "daemon/state_lock.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <string_view>
#include <sys/file.h>
#include <unistd.h>
#include <utility>

namespace seedbox::daemon {

namespace {

// The PID the holder wrote, or "" when it cannot be read (the holder may be between the lock and
// the write).
std::string holder_pid(int fd)
{
    char buf[32] = {};
    auto n = ::pread(fd, buf, sizeof buf - 1, 0);
    std::string pid;
    for (ssize_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; ++i)
        pid += buf[i];
    return pid;
}

} // namespace

StateLock StateLock::acquire(std::string const& state_dir, std::string& error)
{
    auto const path = state_dir + "/seedboxd.lock";
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        error = "cannot open " + path + ": " + std::strerror(errno);
        return StateLock(-1);
    }
    StateLock lock(fd);
    while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EINTR)
            continue;
        if (errno == EWOULDBLOCK) {
            auto pid = holder_pid(fd);
            error = "state directory " + state_dir + " is in use by another seedboxd" +
                    (pid.empty() ? std::string() : " (PID " + pid + ")") + " (lock " + path +
                    "); stop it first or give this one its own --state-dir";
        } else {
            error = "cannot lock " + path + ": " + std::strerror(errno);
        }
        return StateLock(-1);
    }
    auto const pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd, 0) != 0 ||
        ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
        error = "cannot write " + path + ": " + std::strerror(errno);
        return StateLock(-1);
    }
    return lock;
}

StateLock::StateLock(StateLock&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}

StateLock& StateLock::operator=(StateLock&& o) noexcept
{
    std::swap(fd_, o.fd_);
    return *this;
}

StateLock::~StateLock()
{
    if (fd_ >= 0)
        ::close(fd_); // releases the lock
}

} // namespace seedbox::daemon
