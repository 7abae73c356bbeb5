// One WebSocket connection: JSON-RPC requests in, answers and subscribed notifications out.
//
// Until it signs in (an Authorization header on the upgrade, or auth.login) a connection gets
// rpc.auth_timeout seconds, messages of at most kPreAuthMessageBytes, one request at a time
// handled right here on the io thread (the next is read once the answer is out), nothing but
// auth.login, kPreAuthMessages messages and three wrong tokens before it is closed. Signed in, it
// gets the full limits: messages up to rpc.max_body_bytes, requests in flight up to that many bytes
// in total (reading pauses beyond it), an outgoing queue bounded in bytes (rpc.ws_max_queue_bytes)
// and messages (rpc.ws_max_queue) with one write in flight, and an idle timeout
// (rpc.ws_idle_timeout) that our pings and any traffic from the client reset.
#include "daemon/base/events.h"
#include "rpc/sessions.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

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

constexpr std::size_t kPreAuthMessageBytes = 4096;
constexpr int kPreAuthMessages = 4; // messages before sign-in; one more closes the connection
// Requests of one connection on the worker pool at once. Small, so a client pipelining heavy
// batches waits for its own answers instead of queueing ahead of every other client.
constexpr int kMaxInFlight = 4;
constexpr int kMaxLoginFailures = 3;
// What one queued message costs beyond its text (the shared_ptr, its control block, the deque).
constexpr std::size_t kQueueOverhead = 64;

class WsSession : public std::enable_shared_from_this<WsSession>, public Connection {
public:
    WsSession(beast::tcp_stream stream, std::shared_ptr<Shared> shared, bool authenticated,
              std::string address)
        : ws_(std::move(stream)), auth_timer_(shared->io), shared_(std::move(shared)),
          id_(shared_->next_session++), address_(std::move(address)), authenticated_(authenticated)
    {
        ++shared_->connections;
        ++shared_->ws_clients;
        if (!authenticated)
            shared_->track_unauthenticated(id_, address_);
    }

    // May run on any thread: the io-thread bookkeeping is posted.
    ~WsSession() override
    {
        asio::post(shared_->io, [shared = shared_, id = id_, hub = hub_token_] {
            --shared->connections;
            --shared->ws_clients;
            shared->closers.erase(id);
            shared->untrack_unauthenticated(id);
            if (hub && !shared->stopping)
                shared->events.unsubscribe(hub);
        });
    }

    void run(http::request<http::string_body> req)
    {
        auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::server);
        timeouts.handshake_timeout = std::chrono::seconds(shared_->cfg.auth_timeout);
        ws_.set_option(timeouts);
        ws_.set_option(websocket::stream_base::decorator(
            [](websocket::response_type& res) { res.set(http::field::server, "seedboxd"); }));
        ws_.read_message_max(kPreAuthMessageBytes);
        shared_->closers[id_] = [weak = weak_from_this()] {
            if (auto self = weak.lock())
                self->shut();
        };
        if (!authenticated_) {
            auth_timer_.expires_after(std::chrono::seconds(shared_->cfg.auth_timeout));
            auth_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
                auto self = weak.lock();
                if (ec || !self || self->authenticated_)
                    return;
                spdlog::debug("RPC: WebSocket from {} did not sign in within {} s; closed",
                              self->address_, self->shared_->cfg.auth_timeout);
                self->shut();
            });
        }
        ws_.async_accept(req, [self = shared_from_this()](beast::error_code ec) {
            self->guard([&] {
                if (ec)
                    return self->shut();
                self->hub_token_ = self->shared_->events.subscribe(
                    [weak = self->weak_from_this()](std::string const& method,
                                                    std::shared_ptr<std::string const> const& msg) {
                        if (auto s = weak.lock(); s && s->subscriptions_.count(method))
                            s->send(msg);
                    });
                if (self->authenticated_)
                    self->promote();
                self->do_read();
            });
        });
    }

    // Connection (called from worker threads, or the io thread before sign-in)
    bool websocket() const override { return true; }
    bool authenticated() const override { return authenticated_; }
    void set_authenticated() override { authenticated_ = true; }
    std::string remote_address() const override { return address_; }
    void login_failed() override
    {
        asio::post(shared_->io, [self = shared_from_this()] {
            if (++self->login_failures_ >= kMaxLoginFailures) {
                spdlog::warn("RPC: WebSocket from {} closed after {} failed auth.login",
                             self->address_, kMaxLoginFailures);
                self->close_after_write_ = true; // once the answer saying so is out
                if (self->queue_.empty() && self->in_flight_ == 0)
                    self->shut();
            }
        });
    }
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
    void guard(std::function<void()> const& fn)
    {
        guarded(address_, fn, [this] { shut(); });
    }

    // Closes the connection now (no close handshake): for limits, deadlines and shutdown.
    void shut()
    {
        closing_ = true;
        auth_timer_.cancel();
        beast::get_lowest_layer(ws_).close();
    }

    // Io thread, once signed in: the full limits, an idle timeout kept alive by pings.
    void promote()
    {
        if (promoted_)
            return;
        promoted_ = true;
        auth_timer_.cancel();
        shared_->untrack_unauthenticated(id_);
        ws_.read_message_max(static_cast<std::uint64_t>(shared_->cfg.max_body_bytes));
        websocket::stream_base::timeout t{};
        t.handshake_timeout = std::chrono::seconds(30);
        t.idle_timeout = std::chrono::seconds(shared_->cfg.ws_idle_timeout);
        t.keep_alive_pings = true;
        ws_.set_option(t);
    }

    void do_read()
    {
        if (closing_ || reading_ || close_after_write_)
            return;
        // Before sign-in, the next message is read only once the last answer has gone out.
        if (!promoted_ && !queue_.empty())
            return;
        // Backpressure: with too much in flight, stop reading until answers go out.
        if (in_flight_ >= kMaxInFlight ||
            (in_flight_ > 0 &&
             in_flight_bytes_ >= static_cast<std::size_t>(shared_->cfg.max_body_bytes)))
            return;
        reading_ = true;
        ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
            self->reading_ = false;
            self->guard([&] { self->on_read(ec); });
        });
    }

    void on_read(beast::error_code ec)
    {
        if (ec == websocket::error::message_too_big)
            spdlog::warn("RPC: WebSocket message from {} over {} bytes; connection closed",
                         address_,
                         promoted_ ? "rpc.max_body_bytes" : std::to_string(kPreAuthMessageBytes));
        if (ec)
            return shut(); // closed, too big (Beast sent close 1009), reset or timed out
        auto text = beast::buffers_to_string(buffer_.data());
        buffer_.consume(buffer_.size());
        if (!promoted_) {
            // Not signed in: handled here, one at a time; only auth.login runs.
            if (++preauth_messages_ > kPreAuthMessages) {
                spdlog::warn("RPC: WebSocket from {} sent {} messages without signing in; closed",
                             address_, kPreAuthMessages + 1);
                return shut();
            }
            shared_->dispatcher.handle(text, *this, [this](std::optional<std::string> answer) {
                if (answer)
                    send(std::make_shared<std::string const>(std::move(*answer)));
            });
            if (authenticated_)
                promote();
            return do_read();
        }
        auto const size = text.size();
        ++in_flight_;
        in_flight_bytes_ += size;
        asio::post(shared_->workers, [self = shared_from_this(), text = std::move(text), size] {
            auto& io = self->shared_->io;
            auto done = [self, size, &io](std::optional<std::string> answer) {
                asio::post(io, [self, size, answer = std::move(answer)]() mutable {
                    self->guard([&] {
                        --self->in_flight_;
                        self->in_flight_bytes_ -= size;
                        if (answer)
                            self->send(std::make_shared<std::string const>(std::move(*answer)));
                        else if (self->close_after_write_ && self->queue_.empty())
                            return self->shut();
                        if (self->authenticated_)
                            self->promote();
                        self->do_read();
                    });
                });
            };
            if (self->closing_) // dropped while this waited for a worker: no work for nobody
                return done(std::nullopt);
            try {
                self->shared_->dispatcher.handle(text, *self, done);
            } catch (std::exception const& e) {
                spdlog::error("RPC request from {} failed: {}", self->address_, e.what());
                asio::post(io, [self] { self->shut(); });
            }
        });
        do_read();
    }

    void send(std::shared_ptr<std::string const> msg)
    {
        if (closing_)
            return;
        auto const cost = msg->size() + kQueueOverhead;
        // A message larger than the whole budget still goes when the queue is empty.
        if (!queue_.empty() &&
            (queue_.size() >= static_cast<std::size_t>(shared_->cfg.ws_max_queue) ||
             queued_bytes_ + cost > static_cast<std::size_t>(shared_->cfg.ws_max_queue_bytes))) {
            spdlog::warn("RPC: WebSocket client {} too slow ({} messages, {} bytes queued); "
                         "disconnecting",
                         address_, queue_.size(), queued_bytes_);
            return shut();
        }
        queued_bytes_ += cost;
        queue_.push_back(std::move(msg));
        if (queue_.size() == 1)
            do_write();
    }

    void do_write()
    {
        ws_.text(true);
        ws_.async_write(asio::buffer(*queue_.front()),
                        [self = shared_from_this()](beast::error_code ec, std::size_t) {
                            self->guard([&] {
                                if (ec)
                                    return self->shut();
                                self->queued_bytes_ -=
                                    self->queue_.front()->size() + kQueueOverhead;
                                self->queue_.pop_front();
                                if (!self->queue_.empty())
                                    return self->do_write();
                                if (self->close_after_write_)
                                    return self->shut();
                                if (!self->promoted_)
                                    self->do_read(); // the answer is out: the next message
                            });
                        });
    }

    websocket::stream<beast::tcp_stream> ws_;
    beast::flat_buffer buffer_;
    asio::steady_timer auth_timer_;
    std::shared_ptr<Shared> shared_;
    std::uint64_t id_;
    std::string address_;
    std::atomic<bool> authenticated_;
    std::uint64_t hub_token_ = 0;
    std::set<std::string> subscriptions_; // io thread
    std::deque<std::shared_ptr<std::string const>> queue_;
    std::size_t queued_bytes_ = 0;
    int in_flight_ = 0;
    std::size_t in_flight_bytes_ = 0;
    int login_failures_ = 0;
    int preauth_messages_ = 0;
    bool promoted_ = false;
    bool reading_ = false;
    std::atomic<bool> closing_{false}; // read by workers
    bool close_after_write_ = false;
};

} // namespace

void start_ws_session(beast::tcp_stream stream, http::request<http::string_body> upgrade,
                      std::shared_ptr<Shared> shared, bool authenticated, std::string address)
{
    std::make_shared<WsSession>(std::move(stream), std::move(shared), authenticated,
                                std::move(address))
        ->run(std::move(upgrade));
}

} // namespace seedbox::rpc
