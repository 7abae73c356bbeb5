// The RPC listener: HTTP POST /rpc, GET /rpc (WebSocket), GET /healthz, GET /metrics, and, when
// configured, Transmission's RPC and its web client (/transmission/rpc, /transmission/web/).
// Accepts on the io thread; handlers run on a small worker pool (slow ones on the dispatcher's slow
// pool) so nothing blocks the io thread; answers are posted back.
//
// Admission: at most rpc.max_connections connections. A connection that has not signed in yet is
// "unauthenticated": those have their own, smaller cap (rpc.max_unauthenticated, and per address
// rpc.max_unauthenticated_per_address) and rpc.auth_timeout seconds to sign in, so connections
// that never sign in cannot take the slots of clients that do: at the unauthenticated cap, or at
// rpc.max_connections, the oldest unauthenticated connection is closed to make room; only when
// every connection has signed in is a newcomer refused (503).
#pragma once

#include "config/settings.h"
#include "rpc/brake.h"
#include "rpc/dispatch.h"
#include "rpc/static_files.h"
#include "rpc/transmission_gate.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <map>
#include <memory>
#include <optional>
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
    AuthBrake& brake;
    std::size_t connections = 0;                                        // io thread
    std::size_t ws_clients = 0;                                         // io thread
    bool stopping = false;                                              // io thread
    std::unordered_map<std::uint64_t, std::function<void()>> closers{}; // io thread; shutdown
    std::uint64_t next_session = 1;                                     // io thread
    // /transmission/rpc: its X-Transmission-Session-Id (made once, never changed) and the
    // handler of its request bodies (set before listening; none = the path is not served).
    std::string const transmission_session_id = transmission::new_session_id();
    std::function<void(std::string body, std::function<void(std::optional<std::string>)> done)>
        transmission{};
    // The web client's folder (web.root; set before listening; empty = not served).
    std::string web_root{};
    // transmission.password (set before listening; none = the RPC token only).
    std::shared_ptr<transmission::PasswordCheck> transmission_password{};

    // Who may sign in to Transmission's RPC and the web client.
    [[nodiscard]] transmission::Login transmission_login() const
    {
        return {dispatcher.context().config.transmission.user, token, transmission_password.get()};
    }
    // Io thread. Checks `password` against transmission.password on the slow pool (scrypt,
    // PasswordCheck::check_later) and hands `answer` pass, wrong_credentials or busy on the io
    // thread.
    void check_password_later(std::string password, std::string const& address,
                              std::function<void(transmission::Gate)> answer);

    // Any thread. Answers a web client request on the dispatcher's slow pool (its files are read
    // from disk, never on the io thread or an RPC worker) and hands the response to `answer` on
    // the io thread: 503 (web::busy) when the slow pool's queue is full.
    void answer_web_later(web::Request req, std::function<void(web::Response)> answer);

    // Io thread. Connections not signed in yet, oldest first (ids grow with time), and how many
    // each address holds.
    std::map<std::uint64_t, std::string> unauthenticated{};
    std::unordered_map<std::string, std::size_t> unauthenticated_by_address{};
    void track_unauthenticated(std::uint64_t id, std::string const& address);
    void untrack_unauthenticated(std::uint64_t id);
};

class Server {
public:
    Server(boost::asio::io_context& io, Dispatcher& dispatcher, daemon::EventHub& events,
           config::RpcConfig const& cfg, std::string const& token, AuthBrake& brake);
    ~Server();

    // Before listen(): serves /transmission/rpc with `handler`: called on a worker with a request
    // body, it hands `done` the response body (sent with 200) or nothing (204), once, from any
    // thread. Without it that path answers 404.
    void serve_transmission(
        std::function<void(std::string body, std::function<void(std::optional<std::string>)> done)>
            handler)
    {
        shared_->transmission = std::move(handler);
    }

    // Before listen(): serves the web client from `root` (an existing directory, see
    // web::check_root) at /transmission/web/, and redirects "/" there.
    void serve_web(std::string root) { shared_->web_root = std::move(root); }

    // Before listen(): Transmission clients and the web client may also sign in with the password
    // of this hash (transmission.password).
    void accept_transmission_password(config::PasswordHash hash)
    {
        shared_->transmission_password =
            std::make_shared<transmission::PasswordCheck>(std::move(hash));
    }

    // Io thread. Binds and starts accepting; returns the bound "HOST:PORT" or an error (in `err`).
    [[nodiscard]] std::string listen(config::Endpoint const& ep, std::string& err);

    // Io thread. Stops accepting and closes every session.
    void stop();

    // Waits for handlers still running on the worker pool. Any thread but a worker.
    void join_workers();
    // Any thread. Runs a quick job (no network, no waiting for the chain) on the worker pool.
    void post_to_workers(std::function<void()> job);

    // Io thread. Connections open now (for /metrics).
    [[nodiscard]] Shared const& shared() const { return *shared_; }

private:
    void do_accept();
    // Io thread: whether a new connection from `address` may be served; may close the oldest
    // unauthenticated connection to make room. `why` says why not.
    [[nodiscard]] bool admit(std::string const& address, std::string& why);

    boost::asio::io_context& io_;
    boost::asio::thread_pool workers_;
    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::steady_timer retry_; // accept again after a failed accept
    std::shared_ptr<Shared> shared_;
};

// Sessions (http_session.cpp, ws_session.cpp).
void start_http_session(boost::asio::ip::tcp::socket socket, std::shared_ptr<Shared> shared);

} // namespace seedbox::rpc
