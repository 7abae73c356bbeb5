// A file descriptor that is closed when its owner goes out of scope (the path checks of
// daemon/base/paths.cpp and the web client's files, rpc/static_files.cpp, hold what they opened
// in one).
#pragma once

#include <unistd.h>

#include <utility>

namespace seedbox::daemon {

struct UniqueFd {
    int fd = -1;
    explicit UniqueFd(int f) : fd(f) {}
    ~UniqueFd()
    {
        if (fd >= 0)
            ::close(fd);
    }
    UniqueFd(UniqueFd const&) = delete;
    UniqueFd& operator=(UniqueFd const&) = delete;
    UniqueFd(UniqueFd&& o) noexcept : fd(std::exchange(o.fd, -1)) {}
    UniqueFd& operator=(UniqueFd&& o) noexcept
    {
        std::swap(fd, o.fd);
        return *this;
    }
};

} // namespace seedbox::daemon
