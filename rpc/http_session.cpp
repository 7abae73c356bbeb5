// One HTTP/1.1 connection. The header is read first (bounded, with a short deadline until the
// client has signed in) and Host, Origin, the wrong-token brake and the bearer token are checked
// before a single body byte is read: a client without the token never gets its body parsed. Then
// the body (bounded), dispatch on the worker pool, and the answer written in one go.
#include "rpc/auth.h"
#include "rpc/bounded_parser.h"
#include "rpc/health.h"
#include "rpc/sessions.h"
#include "rpc/transmission_gate.h"

#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <array>

namespace seedbox::rpc {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

std::string_view sv(beast::string_view s)
{
    return {s.data(), s.size()};
}

class HttpSession : public std::enable_shared_from_this<HttpSession> {
public:
    HttpSession(tcp::socket socket, std::shared_ptr<Shared> shared, std::string address)
        : stream_(std::move(socket)), buffer_(buffer_limit(shared->cfg)),
          shared_(std::move(shared)), id_(shared_->next_session++), address_(std::move(address)),
          conn_(address_)
    {
        ++shared_->connections;
        shared_->track_unauthenticated(id_, address_);
    }

    // May run on any thread (the last owner can be a worker): the io-thread bookkeeping is posted.
    ~HttpSession()
    {
        asio::post(shared_->io, [shared = shared_, id = id_] {
            --shared->connections;
            shared->closers.erase(id);
            shared->untrack_unauthenticated(id);
        });
    }

    void run()
    {
        shared_->closers[id_] = [weak = weak_from_this()] {
            if (auto self = weak.lock()) {
                boost::system::error_code ec;
                self->stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
                self->stream_.close();
            }
        };
        do_read_header();
    }

private:
    // What the read buffer may hold: one header block (or trailer) plus a read's worth of body.
    static std::size_t buffer_limit(config::RpcConfig const& cfg)
    {
        return static_cast<std::size_t>(cfg.max_header_bytes) + 64 * 1024;
    }

    void guard(std::function<void()> const& fn)
    {
        guarded(address_, fn, [this] { close(); });
    }

    void do_read_header()
    {
        parser_.emplace(static_cast<std::size_t>(shared_->cfg.max_header_bytes));
        parser_->body_limit(static_cast<std::uint64_t>(shared_->cfg.max_body_bytes));
        parser_->header_limit(static_cast<std::uint32_t>(shared_->cfg.max_header_bytes));
        // Until it signs in, a connection has rpc.auth_timeout from its accept, however many
        // unauthenticated requests (/healthz) it sends meanwhile.
        if (authenticated_)
            stream_.expires_after(std::chrono::seconds(shared_->cfg.idle_timeout));
        else
            stream_.expires_at(accepted_ + std::chrono::seconds(shared_->cfg.auth_timeout));
        http::async_read_header(stream_, buffer_, *parser_,
                                [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                    self->guard([&] { self->on_header(ec); });
                                });
    }

    // Read errors common to the header and the body. True when the connection is done.
    bool failed(beast::error_code ec)
    {
        if (!ec)
            return false;
        if (ec == http::error::body_limit)
            send_plain(http::status::payload_too_large, "request body exceeds rpc.max_body_bytes\n",
                       true);
        else if (ec == http::error::header_limit || ec == http::error::buffer_overflow)
            send_plain(http::status::request_header_fields_too_large,
                       "request header (with trailers) exceeds rpc.max_header_bytes\n", true);
        else if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
                 ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
                 ec == asio::error::eof || ec == http::error::partial_message)
            close();
        else
            send_plain(http::status::bad_request, "malformed HTTP request\n", true);
        return true;
    }

    void on_header(beast::error_code ec)
    {
        if (failed(ec))
            return;
        auto const& req = parser_->get();
        auto const target = std::string(sv(req.target()));
        auto const path = target.substr(0, target.find('?'));
        keep_alive_ = req.keep_alive();
        version_ = req.version();
        transmission_ = false;
        // Routes that take no body: one that came with a body ends the connection after the
        // answer rather than leaving it unread in the stream.
        bool const has_body = parser_->chunked() || parser_->content_length().value_or(0) > 0;
        if (path == "/healthz" && req.method() == http::verb::get) {
            keep_alive_ = keep_alive_ && !has_body;
            return healthz();
        }
        if (!host_allowed(sv(req[http::field::host]), shared_->bind_host,
                          shared_->cfg.allowed_hosts))
            return send_plain(http::status::misdirected_request,
                              "Host header not allowed (see rpc.allowed_hosts)\n", true);
        if (auto wait = shared_->brake.retry_after(address_); wait > 0)
            return too_many_failures(wait);
        auto const token = bearer_token(sv(req[http::field::authorization]));
        bool const authorized = token_equal(token, shared_->token);
        bool const is_ws = beast::websocket::is_upgrade(req);
        if (!token.empty() && !authorized) {
            if (auto wait = shared_->brake.failed(address_, is_ws ? "WebSocket" : "HTTP"); wait > 0)
                return too_many_failures(wait);
            return unauthorized();
        }
        if (path == "/metrics" && req.method() == http::verb::get) {
            if (!authorized && !shared_->cfg.metrics_public)
                return unauthorized();
            keep_alive_ = keep_alive_ && !has_body;
            return metrics(authorized);
        }
        bool const transmission_path =
            (path == "/transmission/rpc" || path == "/transmission/rpc/") && shared_->transmission;
        bool const web_path = !shared_->web_root.empty() && web::is_web_path(path);
        if (path != "/rpc" && !transmission_path && !web_path)
            return send_plain(http::status::not_found, "not found\n", true);
        if (!origin_allowed(sv(req[http::field::origin]), sv(req[http::field::host]),
                            shared_->cfg.allowed_origins))
            return send_plain(http::status::forbidden,
                              "Origin not allowed (see rpc.allowed_origins)\n", true);
        if (transmission_path)
            return transmission(has_body);
        if (web_path)
            return web(path, has_body);
        if (is_ws)
            return upgrade(authorized, has_body);
        if (req.method() != http::verb::post)
            return send_plain(http::status::method_not_allowed,
                              "use POST for JSON-RPC or GET with a WebSocket upgrade\n", true);
        if (!authorized)
            return unauthorized();
        signed_in();
        if (beast::iequals(req[http::field::expect], "100-continue"))
            return continue_then_read_body();
        read_body();
    }

    // Transmission's credentials (/transmission/rpc, the web client): decided at once, or by
    // scrypt on the slow pool; then `next` on the io thread. Wrong ones count with the brake.
    void transmission_login(char const* what, std::function<void(transmission::Gate)> next)
    {
        std::string password;
        auto g = transmission::credentials(sv(parser_->get()[http::field::authorization]),
                                           shared_->transmission_login(), &password);
        auto decided = [self = shared_from_this(), what, next](transmission::Gate g) {
            self->guard([&] {
                if (g == transmission::Gate::wrong_credentials)
                    if (auto wait = self->shared_->brake.failed(self->address_, what); wait > 0)
                        return self->too_many_failures(wait);
                if (transmission::signed_in(g))
                    self->signed_in();
                next(g);
            });
        };
        if (g != transmission::Gate::check_password)
            return decided(g);
        stream_.expires_never(); // a queued check is not an idle client
        shared_->check_password_later(std::move(password), address_, std::move(decided));
    }

    // /transmission/rpc: Transmission's checks (transmission_gate.h), then the body.
    void transmission(bool has_body)
    {
        transmission_login("Transmission", [this, has_body](transmission::Gate g) {
            auto const& req = parser_->get();
            auto const& sid = shared_->transmission_session_id;
            if (g == transmission::Gate::pass)
                g = transmission::handshake(sv(req["X-Transmission-Session-Id"]),
                                            req.method() == http::verb::post, sid);
            if (g != transmission::Gate::pass) {
                keep_alive_ = keep_alive_ && !has_body; // a body we do not read ends it
                auto res = transmission::gate_response(g, version_, keep_alive_, sid);
                if (req.method() == http::verb::head)
                    web::strip_body(res);
                return write(std::move(res), !keep_alive_);
            }
            transmission_ = true;
            if (beast::iequals(req[http::field::expect], "100-continue"))
                return continue_then_read_body();
            read_body();
        });
    }

    // The web client (web.root): Transmission's credentials but not its session-id handshake
    // (a browser loads pages with plain GETs), then the file, read on the slow pool.
    void web(std::string path, bool has_body)
    {
        keep_alive_ = keep_alive_ && !has_body; // a body we do not read ends the connection
        transmission_login("web client", [this, path](transmission::Gate g) {
            auto const& req = parser_->get();
            if (g != transmission::Gate::pass) {
                auto res = transmission::gate_response(g, version_, keep_alive_, {});
                if (req.method() == http::verb::head)
                    web::strip_body(res);
                return write(std::move(res), !keep_alive_);
            }
            stream_.expires_never(); // a queued disk read is not an idle client
            web::Request in{req.method(), path, std::string(sv(req[http::field::if_none_match])),
                            version_, keep_alive_};
            shared_->answer_web_later(std::move(in), [self = shared_from_this()](web::Response r) {
                self->guard([&] { self->write(std::move(r), !self->keep_alive_); });
            });
        });
    }

    // A WebSocket upgrade on /rpc: the connection is handed over to a WebSocket session.
    void upgrade(bool authorized, bool has_body)
    {
        if (has_body)
            return send_plain(http::status::bad_request, "an upgrade carries no body\n", true);
        // A client without a token may still connect and must call auth.login; the WebSocket
        // session gives it the short deadline and small limits until it does.
        shared_->closers.erase(id_);
        stream_.expires_never();
        start_ws_session(std::move(stream_), parser_->release(), shared_, authorized, address_);
    }

    // The client waits for this before sending a large body (curl does past 1 MiB).
    void continue_then_read_body()
    {
        static constexpr std::string_view go = "HTTP/1.1 100 Continue\r\n\r\n";
        asio::async_write(stream_, asio::buffer(go.data(), go.size()),
                          [self = shared_from_this()](beast::error_code wec, std::size_t) {
                              self->guard([&] {
                                  if (wec)
                                      return self->close();
                                  self->read_body();
                              });
                          });
    }

    void signed_in()
    {
        if (authenticated_)
            return;
        authenticated_ = true;
        shared_->untrack_unauthenticated(id_);
    }

    void read_body()
    {
        stream_.expires_after(std::chrono::seconds(shared_->cfg.idle_timeout));
        http::async_read(stream_, buffer_, *parser_,
                         [self = shared_from_this()](beast::error_code ec, std::size_t) {
                             self->guard([&] {
                                 if (!self->failed(ec))
                                     self->dispatch(self->parser_->release().body());
                             });
                         });
    }

    void dispatch(std::string body)
    {
        stream_.expires_never(); // a long handler is not an idle client
        asio::post(shared_->workers, [self = shared_from_this(), body = std::move(body)]() mutable {
            auto& io = self->shared_->io;
            // The answer (200), or none (204: JSON-RPC notifications only), from any thread.
            auto done = [self, &io](std::optional<std::string> answer) {
                asio::post(io, [self, answer = std::move(answer)]() mutable {
                    self->guard([&] {
                        if (answer) // moved, not copied: a list of 10,000 is megabytes
                            self->send_json(http::status::ok, std::move(*answer));
                        else
                            self->send_empty(http::status::no_content);
                    });
                });
            };
            try {
                if (self->transmission_) // Transmission's RPC: its own handler, the same workers
                    self->shared_->transmission(std::move(body), std::move(done));
                else
                    self->shared_->dispatcher.handle(body, self->conn_, std::move(done));
            } catch (std::exception const& e) {
                spdlog::error("RPC request from {} failed: {}", self->address_, e.what());
                asio::post(io, [self] { self->close(); });
            }
        });
    }

    // Liveness that means something: the io thread answers, and an RPC worker picks up a job
    // within kHealthWait (a daemon whose workers are all stuck is not healthy).
    void healthz()
    {
        static constexpr auto kHealthWait = std::chrono::seconds(2);
        stream_.expires_never();
        // A session is never kept (nor counted) for longer than kHealthWait because the workers
        // are busy: only a weak reference waits in their queue.
        probe_workers(shared_->io, shared_->workers, kHealthWait, shared_from_this(),
                      [weak = weak_from_this()](bool ok) {
                          auto self = weak.lock();
                          if (!self)
                              return;
                          self->guard([&] {
                              if (ok)
                                  return self->send_json(http::status::ok, R"({"status":"ok"})");
                              spdlog::warn("GET /healthz: no RPC worker free within {} s",
                                           kHealthWait.count());
                              self->send_json(http::status::service_unavailable,
                                              R"({"status":"busy","reason":"no RPC worker free"})");
                          });
                      });
    }

    // Prometheus scrape: figures are gathered on a worker.
    void metrics(bool authorized)
    {
        if (authorized)
            signed_in();
        ServerFigures figures{shared_->connections, shared_->ws_clients};
        stream_.expires_never();
        asio::post(shared_->workers, [self = shared_from_this(), figures] {
            auto& d = self->shared_->dispatcher;
            std::string text;
            bool ok = true;
            try {
                text = render_metrics(d.context(), d.metrics(), figures);
            } catch (std::exception const& e) {
                spdlog::error("GET /metrics failed: {}", e.what());
                text = std::string("cannot gather metrics: ") + e.what() + "\n";
                ok = false;
            }
            asio::post(self->shared_->io, [self, ok, text = std::move(text)]() mutable {
                self->guard([&] {
                    if (!ok)
                        return self->send_plain(http::status::internal_server_error,
                                                std::move(text), false);
                    self->write(self->make_response(http::status::ok,
                                                    "text/plain; version=0.0.4; charset=utf-8",
                                                    std::move(text)));
                });
            });
        });
    }

    void unauthorized()
    {
        auto res = make_response(http::status::unauthorized, "text/plain",
                                 "missing or wrong bearer token\n");
        res.set(http::field::www_authenticate, "Bearer realm=\"seedboxd\"");
        res.keep_alive(false);
        write(std::move(res), true);
    }

    void too_many_failures(std::int64_t retry_after)
    {
        auto res = make_response(http::status::too_many_requests, "text/plain",
                                 "too many wrong tokens from this address; retry later\n");
        res.set(http::field::retry_after, std::to_string(retry_after));
        res.keep_alive(false);
        write(std::move(res), true);
    }

    http::response<http::string_body> make_response(http::status status, char const* type,
                                                    std::string body)
    {
        http::response<http::string_body> res{status, version_};
        res.set(http::field::server, "seedboxd");
        res.set(http::field::content_type, type);
        res.set(http::field::cache_control, "no-store");
        res.set("X-Content-Type-Options", "nosniff");
        res.keep_alive(keep_alive_);
        res.body() = std::move(body);
        res.prepare_payload();
        return res;
    }

    void send_json(http::status status, std::string body)
    {
        write(make_response(status, "application/json", std::move(body)));
    }

    void send_plain(http::status status, std::string body, bool close)
    {
        auto res = make_response(status, "text/plain", std::move(body));
        if (close)
            res.keep_alive(false);
        write(std::move(res), close);
    }

    void send_empty(http::status status)
    {
        http::response<http::string_body> res{status, version_};
        res.set(http::field::server, "seedboxd");
        res.keep_alive(keep_alive_);
        res.prepare_payload();
        write(std::move(res));
    }

    void write(http::response<http::string_body> res, bool linger = false)
    {
        auto sp = std::make_shared<http::response<http::string_body>>(std::move(res));
        bool const close_after = !sp->keep_alive();
        stream_.expires_after(std::chrono::seconds(shared_->cfg.idle_timeout));
        http::async_write(stream_, *sp,
                          [self = shared_from_this(), sp, close_after, linger](beast::error_code ec,
                                                                               std::size_t) {
                              self->guard([&] {
                                  if (!ec && linger)
                                      return self->linger_close();
                                  if (ec || close_after || self->shared_->stopping)
                                      return self->close();
                                  self->do_read_header();
                              });
                          });
    }

    void close()
    {
        boost::system::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
        stream_.close();
    }

    // After refusing a request mid-upload, drain (a bounded amount of) what the client is still
    // sending before closing, so its kernel does not turn our close into a reset that eats the
    // error response.
    void linger_close()
    {
        boost::system::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
        stream_.expires_after(std::chrono::seconds(2));
        drain_ = std::make_shared<std::array<char, 16384>>();
        do_drain(0);
    }

    void do_drain(std::size_t total)
    {
        stream_.async_read_some(asio::buffer(*drain_), [self = shared_from_this(), total](
                                                           beast::error_code ec, std::size_t n) {
            if (ec || total + n > (4u << 20))
                return self->stream_.close();
            self->do_drain(total + n);
        });
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<BoundedParser> parser_;
    std::shared_ptr<Shared> shared_;
    std::uint64_t id_;
    std::string address_;
    HttpConnection conn_;
    std::shared_ptr<std::array<char, 16384>> drain_;
    std::chrono::steady_clock::time_point const accepted_ = std::chrono::steady_clock::now();
    bool keep_alive_ = true;
    bool authenticated_ = false;
    bool transmission_ = false; // the body is a Transmission request
    unsigned version_ = 11;
};

} // namespace

void start_http_session(tcp::socket socket, std::shared_ptr<Shared> shared)
{
    boost::system::error_code ec;
    auto const remote = socket.remote_endpoint(ec);
    auto address = ec ? std::string("?") : AuthBrake::key_of(remote.address().to_string());
    std::make_shared<HttpSession>(std::move(socket), std::move(shared), std::move(address))->run();
}

} // namespace seedbox::rpc
