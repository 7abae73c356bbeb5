#include "daemon/base/threads.h"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <latch>
#include <memory>
#include <pthread.h>
#include <string>

namespace seedbox::daemon {

void name_this_thread(char const* name)
{
    std::string cut(name);
    cut.resize(std::min<std::size_t>(cut.size(), 15));
    (void)pthread_setname_np(pthread_self(), cut.c_str()); // a name is a nicety: never fatal
}

void name_pool_threads(boost::asio::thread_pool& pool, std::size_t threads, char const* name)
{
    // Shared: a task may still be leaving arrive_and_wait() when this function returns.
    auto started = std::make_shared<std::latch>(static_cast<std::ptrdiff_t>(threads));
    for (std::size_t i = 0; i < threads; ++i)
        boost::asio::post(pool, [started, name] {
            name_this_thread(name);
            started->arrive_and_wait();
        });
    started->wait();
}

} // namespace seedbox::daemon
