#include "rpc/server.h"

#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

namespace seedbox::rpc {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

Server::Server(asio::io_context& io, Dispatcher& dispatcher, daemon::EventHub& events,
               config::RpcConfig const& cfg, std::string const& token)
    : io_(io), workers_(static_cast<std::size_t>(cfg.workers)), acceptor_(io),
      shared_(std::make_shared<Shared>(
          Shared{io, workers_, dispatcher, events, cfg, {}, token, 0, 0, false, {}, 1}))
{
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

void Server::do_accept()
{
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
        if (ec) {
            if (ec != asio::error::operation_aborted) {
                spdlog::warn("accept failed: {}", ec.message());
                if (acceptor_.is_open())
                    do_accept();
            }
            return;
        }
        if (shared_->stopping)
            return;
        if (shared_->connections >= static_cast<std::size_t>(shared_->cfg.max_connections)) {
            // Fresh socket, empty send buffer: this small write does not block.
            static constexpr std::string_view busy =
                "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
                "Content-Length: 21\r\nConnection: close\r\nRetry-After: 1\r\n\r\n"
                "too many connections\n";
            boost::system::error_code wec;
            asio::write(socket, asio::buffer(busy.data(), busy.size()), wec);
            socket.shutdown(tcp::socket::shutdown_both, wec);
            spdlog::warn("refused a connection: {} connections open (rpc.max_connections)",
                         shared_->connections);
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
    auto closers = shared_->closers;
    for (auto& [id, close] : closers)
        close();
}

void Server::join_workers()
{
    workers_.join();
}

} // namespace seedbox::rpc
