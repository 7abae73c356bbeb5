// Private to rpc/: how an HTTP session hands a connection to a WebSocket session.
#pragma once

#include "rpc/server.h"

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace seedbox::rpc {

void start_ws_session(boost::beast::tcp_stream stream,
                      boost::beast::http::request<boost::beast::http::string_body> upgrade,
                      std::shared_ptr<Shared> shared, bool authenticated);

// A Connection for plain HTTP requests: authenticated by the transport, no subscriptions.
class HttpConnection final : public Connection {
public:
    bool websocket() const override { return false; }
    bool authenticated() const override { return true; }
    void set_authenticated() override {}
    void subscribe(std::vector<std::string> const&, bool) override {}
};

} // namespace seedbox::rpc
