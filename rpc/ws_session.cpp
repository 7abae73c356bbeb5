// One WebSocket connection: JSON-RPC requests in, answers and subscribed notifications out.
// One write in flight; the outgoing queue is bounded (rpc.ws_max_queue) and a client that cannot
// keep up is disconnected rather than allowed to grow memory without limit.
#include "daemon/events.h"
#include "rpc/sessions.h"

#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <deque>
#include <set>

namespace seedbox::rpc {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

constexpr int kMaxInFlight = 32;

class WsSession : public std::enable_shared_from_this<WsSession>, public Connection {
public:
    WsSession(beast::tcp_stream stream, std::shared_ptr<Shared> shared, bool authenticated)
        : ws_(std::move(stream)), shared_(std::move(shared)), id_(shared_->next_session++),
          authenticated_(authenticated)
    {
        ++shared_->connections;
        ++shared_->ws_clients;
    }

    ~WsSession() override
    {
        --shared_->connections;
        --shared_->ws_clients;
        shared_->closers.erase(id_);
        if (hub_token_)
            shared_->events.unsubscribe(hub_token_);
    }

    void run(http::request<http::string_body> req)
    {
        ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
        ws_.set_option(websocket::stream_base::decorator(
            [](websocket::response_type& res) { res.set(http::field::server, "seedboxd"); }));
        ws_.read_message_max(static_cast<std::uint64_t>(shared_->cfg.max_body_bytes));
        shared_->closers[id_] = [weak = weak_from_this()] {
            if (auto self = weak.lock()) {
                self->closing_ = true;
                beast::get_lowest_layer(self->ws_).close();
            }
        };
        ws_.async_accept(req, [self = shared_from_this()](beast::error_code ec) {
            if (ec)
                return;
            self->hub_token_ = self->shared_->events.subscribe(
                [weak = self->weak_from_this()](std::string const& method,
                                                std::shared_ptr<std::string const> const& msg) {
                    if (auto s = weak.lock(); s && s->subscriptions_.count(method))
                        s->send(msg);
                });
            self->do_read();
        });
    }

    // Connection (called from worker threads)
    bool websocket() const override { return true; }
    bool authenticated() const override { return authenticated_; }
    void set_authenticated() override { authenticated_ = true; }
    void subscribe(std::vector<std::string> const& events, bool add) override
    {
        asio::post(shared_->io, [self = shared_from_this(), events, add] {
            for (auto const& e : events) {
                if (add)
                    self->subscriptions_.insert(e);
                else
                    self->subscriptions_.erase(e);
            }
        });
    }

private:
    void do_read()
    {
        ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
            self->on_read(ec);
        });
    }

    void on_read(beast::error_code ec)
    {
        if (ec == websocket::error::message_too_big)
            spdlog::warn("WebSocket message over rpc.max_body_bytes; connection closed");
        if (ec)
            return; // closed, too big (Beast sent close 1009), reset or timed out: session ends
        auto text = beast::buffers_to_string(buffer_.data());
        buffer_.consume(buffer_.size());
        if (in_flight_ >= kMaxInFlight) {
            send(std::make_shared<std::string const>(
                R"({"jsonrpc":"2.0","id":null,"error":{"code":-32003,"message":"Busy: too many requests in flight on this connection","data":{"token":"busy"}}})"));
        } else {
            ++in_flight_;
            asio::post(shared_->workers, [self = shared_from_this(), text = std::move(text)] {
                auto answer = self->shared_->dispatcher.handle(text, *self);
                asio::post(self->shared_->io, [self, answer = std::move(answer)] {
                    --self->in_flight_;
                    if (answer)
                        self->send(std::make_shared<std::string const>(std::move(*answer)));
                });
            });
        }
        do_read();
    }

    void send(std::shared_ptr<std::string const> msg)
    {
        if (closing_)
            return;
        if (queue_.size() >= static_cast<std::size_t>(shared_->cfg.ws_max_queue)) {
            spdlog::warn("WebSocket client too slow ({} messages queued); disconnecting",
                         queue_.size());
            closing_ = true;
            beast::get_lowest_layer(ws_).close();
            return;
        }
        queue_.push_back(std::move(msg));
        if (queue_.size() == 1)
            do_write();
    }

    void do_write()
    {
        ws_.text(true);
        ws_.async_write(asio::buffer(*queue_.front()),
                        [self = shared_from_this()](beast::error_code ec, std::size_t) {
                            if (ec)
                                return;
                            self->queue_.pop_front();
                            if (!self->queue_.empty())
                                self->do_write();
                        });
    }

    websocket::stream<beast::tcp_stream> ws_;
    beast::flat_buffer buffer_;
    std::shared_ptr<Shared> shared_;
    std::uint64_t id_;
    std::atomic<bool> authenticated_;
    std::uint64_t hub_token_ = 0;
    std::set<std::string> subscriptions_; // io thread
    std::deque<std::shared_ptr<std::string const>> queue_;
    int in_flight_ = 0;
    bool closing_ = false;
};

} // namespace

void start_ws_session(beast::tcp_stream stream, http::request<http::string_body> upgrade,
                      std::shared_ptr<Shared> shared, bool authenticated)
{
    std::make_shared<WsSession>(std::move(stream), std::move(shared), authenticated)
        ->run(std::move(upgrade));
}

} // namespace seedbox::rpc
