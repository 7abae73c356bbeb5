// The RPC listener: HTTP POST /rpc, GET /rpc (WebSocket), GET /healthz. Accepts on the io thread;
// handlers run on a small worker pool so nothing blocks the io thread; answers are posted back.
#pragma once

#include "config/settings.h"
#include "rpc/dispatch.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/thread_pool.hpp>
#include <memory>
#include <string>
#include <unordered_map>

namespace seedbox::daemon {
class EventHub;
}

namespace seedbox::rpc {

// State every session shares. Owned by Server; io-thread fields are only touched there.
struct Shared {
    boost::asio::io_context& io;
    boost::asio::thread_pool& workers;
    Dispatcher& dispatcher;
    daemon::EventHub& events;
    config::RpcConfig const& cfg;
    std::string bind_host;
    std::string const& token;
    std::size_t connections = 0;                                      // io thread
    std::size_t ws_clients = 0;                                       // io thread
    bool stopping = false;                                            // io thread
    std::unordered_map<std::uint64_t, std::function<void()>> closers; // io thread; shutdown
    std::uint64_t next_session = 1;                                   // io thread
};

class Server {
public:
    Server(boost::asio::io_context& io, Dispatcher& dispatcher, daemon::EventHub& events,
           config::RpcConfig const& cfg, std::string const& token);
    ~Server();

    // Io thread. Binds and starts accepting; returns the bound "HOST:PORT" or an error (in `err`).
    [[nodiscard]] std::string listen(config::Endpoint const& ep, std::string& err);

    // Io thread. Stops accepting and closes every session.
    void stop();

    // Waits for handlers still running on the worker pool. Any thread but a worker.
    void join_workers();

private:
    void do_accept();

    boost::asio::io_context& io_;
    boost::asio::thread_pool workers_;
    boost::asio::ip::tcp::acceptor acceptor_;
    std::shared_ptr<Shared> shared_;
};

// Sessions (http_session.cpp, ws_session.cpp).
void start_http_session(boost::asio::ip::tcp::socket socket, std::shared_ptr<Shared> shared);

} // namespace seedbox::rpc
