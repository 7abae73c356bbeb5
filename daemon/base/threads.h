// Thread names (what `top -H`, `ps -L`, perf and /proc/PID/task/*/comm show), so an operator can
// tell the daemon's threads apart and bench/control_bench.py can say which one spends the CPU.
// Linux allows 15 characters; longer names are cut.
#pragma once

#include <boost/asio/thread_pool.hpp>

#include <cstddef>

namespace seedbox::daemon {

// Names the calling thread.
void name_this_thread(char const* name);

// Names each of the `threads` threads of `pool` (all it has): one task per thread, each held until
// all have started, so no thread runs two. Call once, right after making the pool.
void name_pool_threads(boost::asio::thread_pool& pool, std::size_t threads, char const* name);

} // namespace seedbox::daemon
