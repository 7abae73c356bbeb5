#include "rpc/health.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>

namespace seedbox::rpc {

void probe_workers(boost::asio::io_context& io, boost::asio::thread_pool& workers,
                   std::chrono::seconds wait, std::shared_ptr<void> keep,
                   std::function<void(bool ok)> done)
{
    struct Check {
        std::atomic<bool> done{false};
        boost::asio::steady_timer timer;
        explicit Check(boost::asio::io_context& io) : timer(io) {}
    };
    auto check = std::make_shared<Check>(io);
    auto answer = [check, done = std::move(done)](bool ok) {
        if (check->done.exchange(true))
            return;
        check->timer.cancel();
        done(ok);
    };
    check->timer.expires_after(wait);
    check->timer.async_wait([answer, keep = std::move(keep)](boost::system::error_code ec) {
        if (!ec)
            answer(false);
    });
    boost::asio::post(workers,
                      [answer, &io]() { boost::asio::post(io, [answer] { answer(true); }); });
}

} // namespace seedbox::rpc
