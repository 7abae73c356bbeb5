// The worker probe behind GET /healthz: liveness that means something (the io thread answers and
// an RPC worker picks up a job in time).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <functional>
#include <memory>

namespace seedbox::rpc {

// Io thread. Calls `done(true)` once an RPC worker picks up a job, or `done(false)` after
// `wait`; exactly once, on the io thread. `keep` stays alive until the wait ends, at most `wait`:
// only `done` waits in the worker queue, so a caller that must not be kept longer holds itself
// there by a weak reference.
void probe_workers(boost::asio::io_context& io, boost::asio::thread_pool& workers,
                   std::chrono::seconds wait, std::shared_ptr<void> keep,
                   std::function<void(bool ok)> done);

} // namespace seedbox::rpc
