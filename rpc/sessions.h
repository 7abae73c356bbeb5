// Private to rpc/: how an HTTP session hands a connection to a WebSocket session, and what both
// share.
#pragma once

#include "rpc/server.h"

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <spdlog/spdlog.h>

namespace seedbox::rpc {

void start_ws_session(boost::beast::tcp_stream stream,
                      boost::beast::http::request<boost::beast::http::string_body> upgrade,
                      std::shared_ptr<Shared> shared, bool authenticated, std::string address);

// A Connection for plain HTTP requests: authenticated by the transport, no subscriptions.
class HttpConnection final : public Connection {
public:
    explicit HttpConnection(std::string address) : address_(std::move(address)) {}
    bool websocket() const override { return false; }
    bool authenticated() const override { return true; }
    void set_authenticated() override {}
    void subscribe(std::vector<std::string> const&, bool) override {}
    std::string remote_address() const override { return address_; }

private:
    std::string address_;
};

// Runs a session's completion handler body. An exception (a bug, or a library throwing where it
// should have returned an error) is logged with the peer's address and ends that connection
// through `close`; it never reaches the io loop, so the daemon keeps serving everyone else.
template <class Fn, class Close>
void guarded(std::string const& address, Fn&& fn, Close&& close) noexcept
{
    try {
        fn();
        return;
    } catch (std::exception const& e) {
        spdlog::error("RPC connection from {}: unexpected error, closing it: {}", address,
                      e.what());
    } catch (...) {
        spdlog::error("RPC connection from {}: unexpected error, closing it", address);
    }
    try {
        close();
    } catch (...) {
    }
}

} // namespace seedbox::rpc
