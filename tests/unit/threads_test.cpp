// Thread names: every thread of a pool gets the name (none left with the process's), and a name
// longer than Linux's 15 characters is cut rather than refused.
#include "daemon/base/threads.h"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <doctest/doctest.h>

#include <latch>
#include <mutex>
#include <pthread.h>
#include <set>
#include <string>
#include <thread>

using seedbox::daemon::name_pool_threads;
using seedbox::daemon::name_this_thread;

namespace {

std::string my_name()
{
    char buf[32] = {};
    pthread_getname_np(pthread_self(), buf, sizeof buf);
    return buf;
}

} // namespace

TEST_CASE("name_pool_threads names every thread of the pool")
{
    constexpr std::size_t kThreads = 4;
    boost::asio::thread_pool pool(kThreads);
    name_pool_threads(pool, kThreads, "sbx-test-pool");
    // One task per thread again, each held until all have started: every thread answers.
    std::latch all(kThreads);
    std::mutex m;
    std::set<std::string> names;
    for (std::size_t i = 0; i < kThreads; ++i)
        boost::asio::post(pool, [&] {
            {
                std::lock_guard lock(m);
                names.insert(my_name());
            }
            all.arrive_and_wait();
        });
    pool.join();
    CHECK(names == std::set<std::string>{"sbx-test-pool"});
}

TEST_CASE("name_this_thread cuts a long name to 15 characters")
{
    std::string got;
    std::thread t([&] {
        name_this_thread("sbx-a-name-longer-than-fifteen");
        got = my_name();
    });
    t.join();
    CHECK(got == "sbx-a-name-long");
}
