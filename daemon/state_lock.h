// One daemon per state directory: an exclusive flock(2) on <state_dir>/seedboxd.lock, taken
// before anything in the directory is read and held until the process exits (the kernel drops it
// then, so a crash never leaves a stale lock). The file holds the owner's PID for the message a
// second start prints; the lock itself, not the file's content, is what counts.
#pragma once

#include <string>

namespace seedbox::daemon {

class StateLock {
public:
    // Takes the lock or explains why not ("… is in use by seedboxd (PID 1234)").
    [[nodiscard]] static StateLock acquire(std::string const& state_dir, std::string& error);

    StateLock(StateLock&& o) noexcept;
    StateLock& operator=(StateLock&& o) noexcept;
    StateLock(StateLock const&) = delete;
    StateLock& operator=(StateLock const&) = delete;
    ~StateLock();

    [[nodiscard]] bool held() const { return fd_ >= 0; }

private:
    explicit StateLock(int fd) : fd_(fd) {}
    int fd_ = -1;
};

} // namespace seedbox::daemon
