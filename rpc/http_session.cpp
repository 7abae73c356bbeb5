// One HTTP/1.1 connection: read a request (bounded header and body, idle timeout), check Host,
// Origin and the bearer token, dispatch on the worker pool, write the answer in one go.
#include "rpc/auth.h"
#include "rpc/sessions.h"

#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <spdlog/spdlog.h>

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
    HttpSession(tcp::socket socket, std::shared_ptr<Shared> shared)
        : stream_(std::move(socket)), shared_(std::move(shared)), id_(shared_->next_session++)
    {
        ++shared_->connections;
    }

    ~HttpSession()
    {
        --shared_->connections;
        shared_->closers.erase(id_);
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
        do_read();
    }

private:
    void do_read()
    {
        parser_.emplace();
        parser_->body_limit(static_cast<std::uint64_t>(shared_->cfg.max_body_bytes));
        parser_->header_limit(static_cast<std::uint32_t>(shared_->cfg.max_header_bytes));
        stream_.expires_after(std::chrono::seconds(shared_->cfg.idle_timeout));
        http::async_read(
            stream_, buffer_, *parser_,
            [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
    }

    void on_read(beast::error_code ec)
    {
        if (ec == http::error::body_limit)
            return send_plain(http::status::payload_too_large,
                              "request body exceeds rpc.max_body_bytes\n", true);
        if (ec == http::error::header_limit)
            return send_plain(http::status::request_header_fields_too_large,
                              "request header exceeds rpc.max_header_bytes\n", true);
        if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
            ec == asio::error::operation_aborted || ec == asio::error::connection_reset) {
            return close();
        }
        if (ec)
            return send_plain(http::status::bad_request, "malformed HTTP request\n", true);
        route(parser_->release());
    }

    void route(http::request<http::string_body> req)
    {
        auto const target = std::string(sv(req.target()));
        auto const path = target.substr(0, target.find('?'));
        keep_alive_ = req.keep_alive();
        version_ = req.version();
        if (path == "/healthz" && req.method() == http::verb::get)
            return send_json(http::status::ok, R"({"status":"ok"})");
        if (!host_allowed(sv(req[http::field::host]), shared_->bind_host,
                          shared_->cfg.allowed_hosts))
            return send_plain(http::status::misdirected_request,
                              "Host header not allowed (see rpc.allowed_hosts)\n", true);
        if (path == "/metrics" && req.method() == http::verb::get)
            return metrics(sv(req[http::field::authorization]));
        if (path != "/rpc")
            return send_plain(http::status::not_found, "not found\n", false);
        if (!origin_allowed(sv(req[http::field::origin]), sv(req[http::field::host]),
                            shared_->cfg.allowed_origins))
            return send_plain(http::status::forbidden,
                              "Origin not allowed (see rpc.allowed_origins)\n", true);
        auto const token = bearer_token(sv(req[http::field::authorization]));
        bool const authorized = token_equal(token, shared_->token);
        if (beast::websocket::is_upgrade(req)) {
            // A client without a token may still connect and call auth.login; a wrong one may not.
            if (!token.empty() && !authorized)
                return unauthorized();
            shared_->closers.erase(id_);
            stream_.expires_never();
            return start_ws_session(std::move(stream_), std::move(req), shared_, authorized);
        }
        if (req.method() != http::verb::post)
            return send_plain(http::status::method_not_allowed,
                              "use POST for JSON-RPC or GET with a WebSocket upgrade\n", false);
        if (!authorized)
            return unauthorized();
        stream_.expires_never(); // a long handler is not an idle client
        asio::post(shared_->workers, [self = shared_from_this(), body = std::move(req.body())] {
            static HttpConnection conn;
            auto answer = self->shared_->dispatcher.handle(body, conn);
            asio::post(self->shared_->io, [self, answer = std::move(answer)] {
                if (answer)
                    self->send_json(http::status::ok, *answer);
                else
                    self->send_empty(http::status::no_content);
            });
        });
    }

    // Prometheus scrape: the token unless rpc.metrics_public; figures are gathered on a worker.
    void metrics(std::string_view authorization)
    {
        if (!shared_->cfg.metrics_public &&
            !token_equal(bearer_token(authorization), shared_->token))
            return unauthorized();
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
                if (!ok)
                    return self->send_plain(http::status::internal_server_error, std::move(text),
                                            false);
                self->write(self->make_response(
                    http::status::ok, "text/plain; version=0.0.4; charset=utf-8", std::move(text)));
            });
        });
    }

    void unauthorized()
    {
        auto res = make_response(http::status::unauthorized, "text/plain",
                                 "missing or wrong bearer token\n");
        res.set(http::field::www_authenticate, "Bearer realm=\"seedboxd\"");
        res.keep_alive(false);
        write(std::move(res));
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
                              if (!ec && linger)
                                  return self->linger_close();
                              if (ec || close_after || self->shared_->stopping)
                                  return self->close();
                              self->do_read();
                          });
    }

    void close()
    {
        boost::system::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
        stream_.close();
    }

    // After refusing a request mid-upload, drain what the client is still sending before closing,
    // so its kernel does not turn our close into a reset that eats the error response.
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
            if (ec || total + n > (64u << 20))
                return self->stream_.close();
            self->do_drain(total + n);
        });
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    std::shared_ptr<Shared> shared_;
    std::uint64_t id_;
    std::shared_ptr<std::array<char, 16384>> drain_;
    bool keep_alive_ = true;
    unsigned version_ = 11;
};

} // namespace

void start_http_session(tcp::socket socket, std::shared_ptr<Shared> shared)
{
    std::make_shared<HttpSession>(std::move(socket), std::move(shared))->run();
}

} // namespace seedbox::rpc
