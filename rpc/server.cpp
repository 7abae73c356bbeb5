#include "rpc/server.h"

#include "daemon/base/threads.h"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

namespace seedbox::rpc {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

void Shared::track_unauthenticated(std::uint64_t id, std::string const& address)
{
    if (unauthenticated.emplace(id, address).second)
        ++unauthenticated_by_address[address];
}

void Shared::untrack_unauthenticated(std::uint64_t id)
{
    auto it = unauthenticated.find(id);
    if (it == unauthenticated.end())
        return;
    auto by = unauthenticated_by_address.find(it->second);
    if (by != unauthenticated_by_address.end() && --by->second == 0)
        unauthenticated_by_address.erase(by);
    unauthenticated.erase(it);
}

void Shared::answer_web_later(web::Request req, std::function<void(web::Response)> answer)
{
    auto busy = std::make_shared<web::Response>(web::busy(req));
    auto job = [&io = io, root = web_root, req = std::move(req), answer] {
        auto res = std::make_shared<web::Response>(web::respond(root, req));
        asio::post(io, [answer, res] { answer(std::move(*res)); });
    };
    if (!dispatcher.context().offload(std::move(job)))
        asio::post(io, [answer = std::move(answer), busy] { answer(std::move(*busy)); });
}

void Shared::check_password_later(std::string password, std::string const& address,
                                  std::function<void(transmission::Gate)> answer)
{
    auto on_io = [&io = io, answer = std::move(answer)](transmission::Gate g) {
        asio::post(io, [answer, g] { answer(g); });
    };
    auto offload = [this](std::function<void()> job) {
        return dispatcher.context().offload(std::move(job));
    };
    if (!transmission_password)
        return on_io(transmission::Gate::wrong_credentials);
    transmission_password->check_later(std::move(password), address, offload, std::move(on_io));
}

Server::Server(asio::io_context& io, Dispatcher& dispatcher, daemon::EventHub& events,
               config::RpcConfig const& cfg, std::string const& token, AuthBrake& brake)
    : io_(io), workers_(static_cast<std::size_t>(cfg.workers)), acceptor_(io), retry_(io),
      shared_(
          std::make_shared<Shared>(Shared{io, workers_, dispatcher, events, cfg, {}, token, brake}))
{
    daemon::name_pool_threads(workers_, static_cast<std::size_t>(cfg.workers), "sbx-rpc");
}

Server::~Server()
{
    join_workers();
}

std::string Server::listen(config::Endpoint const& ep, std::string& err)
{
    boost::system::error_code ec;
    tcp::resolver resolver(io_);
    auto results =
        resolver.resolve(ep.host, std::to_string(ep.port), tcp::resolver::numeric_service, ec);
    if (ec || results.empty()) {
        err = "cannot resolve RPC bind host " + ep.host + ": " + ec.message();
        return {};
    }
    auto endpoint = results.begin()->endpoint();
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec)
        acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec)
        acceptor_.bind(endpoint, ec);
    if (!ec)
        acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
        err = "cannot listen on " + endpoint.address().to_string() + ":" +
              std::to_string(endpoint.port()) + ": " + ec.message();
        return {};
    }
    shared_->bind_host = ep.host;
    auto bound = acceptor_.local_endpoint();
    do_accept();
    auto addr = bound.address().to_string();
    return (bound.address().is_v6() ? "[" + addr + "]" : addr) + ":" + std::to_string(bound.port());
}

bool Server::admit(std::string const& address, std::string& why)
{
    auto& s = *shared_;
    auto const& cfg = s.cfg;
    auto by = s.unauthenticated_by_address.find(address);
    if (by != s.unauthenticated_by_address.end() &&
        by->second >= static_cast<std::size_t>(cfg.max_unauthenticated_per_address)) {
        why = "rpc.max_unauthenticated_per_address";
        return false;
    }
    bool const full = s.connections >= static_cast<std::size_t>(cfg.max_connections);
    if (full && s.unauthenticated.empty()) {
        why = "rpc.max_connections";
        return false;
    }
    if (full || s.unauthenticated.size() >= static_cast<std::size_t>(cfg.max_unauthenticated)) {
        // Make room: the oldest connection that has not signed in yet goes (it has had the most
        // time to). Untracked now, so a burst cannot evict the same one twice. Signed-in
        // connections are never closed for a newcomer.
        auto const [id, addr] = *s.unauthenticated.begin();
        spdlog::debug("RPC: closing an unauthenticated connection from {} to make room", addr);
        s.untrack_unauthenticated(id);
        if (auto c = s.closers.find(id); c != s.closers.end()) {
            auto close = c->second;
            close();
        }
    }
    return true;
}

void Server::do_accept()
{
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
        if (ec) {
            if (ec == asio::error::operation_aborted || !acceptor_.is_open())
                return;
            // Out of file descriptors (or another passing error): wait a little instead of
            // spinning on accept, and say so once a second at most.
            static auto next_log = std::chrono::steady_clock::time_point{};
            if (auto now = std::chrono::steady_clock::now(); now >= next_log) {
                next_log = now + std::chrono::seconds(1);
                spdlog::warn("RPC: accept failed: {}; retrying in 100 ms", ec.message());
            }
            retry_.expires_after(std::chrono::milliseconds(100));
            retry_.async_wait([this](boost::system::error_code tec) {
                if (!tec && acceptor_.is_open())
                    do_accept();
            });
            return;
        }
        if (shared_->stopping)
            return;
        auto const remote = socket.remote_endpoint(ec);
        auto const address = ec ? std::string() : AuthBrake::key_of(remote.address().to_string());
        std::string why;
        if (ec) {
            // The peer is already gone.
        } else if (!admit(address, why)) {
            // Fresh socket, empty send buffer: this small write does not block.
            static constexpr std::string_view busy =
                "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
                "Content-Length: 21\r\nConnection: close\r\nRetry-After: 1\r\n\r\n"
                "too many connections\n";
            boost::system::error_code wec;
            asio::write(socket, asio::buffer(busy.data(), busy.size()), wec);
            socket.shutdown(tcp::socket::shutdown_both, wec);
            // At most a line a second: a flood must not become a log flood.
            static auto next_log = std::chrono::steady_clock::time_point{};
            static std::uint64_t unlogged = 0;
            if (auto now = std::chrono::steady_clock::now(); now >= next_log) {
                next_log = now + std::chrono::seconds(1);
                spdlog::warn("RPC: refused a connection from {}: {} reached ({} more refused "
                             "since the last line)",
                             address, why, std::exchange(unlogged, 0));
            } else {
                ++unlogged;
            }
        } else {
            socket.set_option(tcp::no_delay(true), ec);
            start_http_session(std::move(socket), shared_);
        }
        do_accept();
    });
}

void Server::stop()
{
    shared_->stopping = true;
    boost::system::error_code ec;
    acceptor_.close(ec);
    retry_.cancel();
    auto closers = shared_->closers;
    for (auto& [id, close] : closers)
        close();
}

void Server::join_workers()
{
    workers_.join();
}

void Server::post_to_workers(std::function<void()> job)
{
    asio::post(workers_, [job = std::move(job)] {
        try {
            job();
        } catch (std::exception const& e) {
            spdlog::error("RPC worker job failed: {}", e.what());
        }
    });
}

} // namespace seedbox::rpc
