#include "rpc/ctl/client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <cstdio>

namespace seedbox::ctl {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

Url parse_url(std::string const& text)
{
    std::string rest = text;
    Url u;
    if (rest.rfind("https://", 0) == 0) {
        u.tls = true;
        rest = rest.substr(8);
    } else if (rest.rfind("http://", 0) == 0) {
        rest = rest.substr(7);
    } else if (rest.find("://") != std::string::npos) {
        throw CtlError(2, "unsupported URL " + text + ": expected http(s)://HOST:PORT");
    }
    while (!rest.empty() && rest.back() == '/')
        rest.pop_back();
    if (rest.find('/') != std::string::npos)
        throw CtlError(2, "URL " + text + " has a path; give only http(s)://HOST:PORT");
    std::string const default_port = u.tls ? "443" : "80";
    u.text = (u.tls ? "https://" : "http://") + rest;
    if (!rest.empty() && rest[0] == '[') {
        auto close = rest.find(']');
        if (close == std::string::npos)
            throw CtlError(2, "bad URL " + text + ": unclosed [");
        u.host = rest.substr(1, close - 1);
        rest = rest.substr(close + 1);
        u.port = rest.rfind(':', 0) == 0 ? rest.substr(1) : default_port;
    } else {
        auto colon = rest.rfind(':');
        u.host = rest.substr(0, colon);
        u.port = colon == std::string::npos ? default_port : rest.substr(colon + 1);
    }
    if (u.host.empty() || u.port.empty() ||
        u.port.find_first_not_of("0123456789") != std::string::npos)
        throw CtlError(2, "bad URL " + text + ": expected http(s)://HOST:PORT");
    return u;
}

namespace {

std::string host_header(Url const& u)
{
    return (u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host) + ":" + u.port;
}

void connect(beast::tcp_stream& stream, asio::io_context& io, Url const& url,
             std::chrono::seconds timeout)
{
    tcp::resolver resolver(io);
    beast::error_code ec;
    auto endpoints = resolver.resolve(url.host, url.port, ec);
    if (ec)
        throw CtlError(3, "cannot resolve " + url.host + ": " + ec.message());
    stream.expires_after(timeout);
    stream.connect(endpoints, ec);
    if (ec)
        throw CtlError(3, "cannot connect to " + url.text + ": " + ec.message() +
                              " (is seedboxd running? set --url or SEEDBOX_URL)");
}

[[noreturn]] void unauthorized()
{
    throw CtlError(4, "unauthorized: seedboxd refused the token (give --token, SEEDBOX_TOKEN, "
                      "--token-file, or --state-dir with the daemon's rpc.token)");
}

// Certificates: the system store, plus `cacert` when given; the peer must present one for
// the URL's host name.
asio::ssl::context tls_context(std::string const& cacert)
{
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    beast::error_code ec;
    ctx.set_default_verify_paths(ec);
    if (!cacert.empty()) {
        ctx.load_verify_file(cacert, ec);
        if (ec)
            throw CtlError(2, "cannot read --cacert " + cacert + ": " + ec.message());
    }
    ctx.set_verify_mode(asio::ssl::verify_peer);
    return ctx;
}

// TLS handshake over a connected stream, with SNI and host name verification.
template <class SslStream>
void tls_handshake(SslStream& stream, Url const& url, std::chrono::seconds timeout)
{
    if (!SSL_set_tlsext_host_name(stream.native_handle(), url.host.c_str()))
        throw CtlError(5, "cannot set the TLS server name " + url.host);
    stream.set_verify_callback(asio::ssl::host_name_verification(url.host));
    beast::get_lowest_layer(stream).expires_after(timeout);
    beast::error_code ec;
    stream.handshake(asio::ssl::stream_base::client, ec);
    if (ec)
        throw CtlError(5, "TLS with " + url.text + " failed: " + ec.message() +
                              " (a private CA? give its certificate with --cacert)");
}

template <class Stream>
http::response<http::string_body> exchange(Stream& stream, Url const& url, std::string const& token,
                                           std::chrono::seconds timeout, http::verb verb,
                                           std::string const& target, std::string body)
{
    http::request<http::string_body> req{verb, target, 11};
    req.set(http::field::host, host_header(url));
    req.set(http::field::user_agent, "seedboxctl");
    if (!token.empty())
        req.set(http::field::authorization, "Bearer " + token);
    if (verb == http::verb::post) {
        req.set(http::field::content_type, "application/json");
        req.body() = std::move(body);
        req.prepare_payload();
    }
    beast::get_lowest_layer(stream).expires_after(timeout);
    beast::error_code ec;
    http::write(stream, req, ec);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(256u << 20);
    if (!ec)
        http::read(stream, buffer, parser, ec);
    if (ec == beast::error::timeout)
        throw CtlError(5, "no answer from " + url.text + " within " +
                              std::to_string(timeout.count()) + " s (--timeout)");
    if (ec)
        throw CtlError(5, "talking to " + url.text + ": " + ec.message());
    auto res = parser.release();
    if (res.result() == http::status::unauthorized)
        unauthorized();
    return res;
}

http::response<http::string_body> request(Url const& url, std::string const& token,
                                          std::string const& cacert, std::chrono::seconds timeout,
                                          http::verb verb, std::string const& target,
                                          std::string body)
{
    asio::io_context io;
    beast::error_code ec;
    if (url.tls) {
        auto ctx = tls_context(cacert);
        beast::ssl_stream<beast::tcp_stream> stream(io, ctx);
        connect(beast::get_lowest_layer(stream), io, url, timeout);
        tls_handshake(stream, url, timeout);
        auto res = exchange(stream, url, token, timeout, verb, target, std::move(body));
        stream.shutdown(ec); // a proxy may just close: not an error here
        return res;
    }
    beast::tcp_stream stream(io);
    connect(stream, io, url, timeout);
    auto res = exchange(stream, url, token, timeout, verb, target, std::move(body));
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    return res;
}

std::string trimmed(std::string s)
{
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r'))
        s.pop_back();
    return s;
}

} // namespace

Client::Client(Url url, std::string token, std::chrono::seconds timeout, std::string cacert)
    : url_(std::move(url)), token_(std::move(token)), timeout_(timeout), cacert_(std::move(cacert))
{
}

json Client::call(std::string const& method, json params)
{
    json req = {{"jsonrpc", "2.0"}, {"id", next_id_++}, {"method", method}};
    if (!params.empty())
        req["params"] = std::move(params);
    auto res = request(url_, token_, cacert_, timeout_, http::verb::post, "/rpc", req.dump());
    if (res.result() != http::status::ok)
        throw CtlError(5, "HTTP " + std::to_string(res.result_int()) + " from " + url_.text + ": " +
                              trimmed(res.body()));
    auto reply = json::parse(res.body(), nullptr, false);
    if (reply.is_discarded() || !reply.is_object())
        throw CtlError(5, "the answer from " + url_.text + " is not JSON-RPC");
    if (reply.contains("error")) {
        auto const& e = reply["error"];
        throw CtlError(1, e.value("message", std::string("error")) + " (code " +
                              std::to_string(e.value("code", 0)) + ")");
    }
    return reply.value("result", json());
}

std::string Client::get(std::string const& path)
{
    auto res = request(url_, token_, cacert_, timeout_, http::verb::get, path, {});
    if (res.result() != http::status::ok)
        throw CtlError(5, "HTTP " + std::to_string(res.result_int()) + " from " + url_.text + path +
                              ": " + trimmed(res.body()));
    return res.body();
}

namespace {

template <class WsStream>
void run_watch(WsStream& ws, Url const& url, std::string const& token,
               std::vector<std::string> const& events,
               std::function<bool(std::string const&, json const&)> const& on_event)
{
    beast::get_lowest_layer(ws).expires_never();
    ws.set_option(beast::websocket::stream_base::timeout::suggested(beast::role_type::client));
    ws.set_option(
        beast::websocket::stream_base::decorator([&token](beast::websocket::request_type& req) {
            req.set(http::field::user_agent, "seedboxctl");
            if (!token.empty())
                req.set(http::field::authorization, "Bearer " + token);
        }));
    beast::websocket::response_type upgrade;
    beast::error_code ec;
    ws.handshake(upgrade, host_header(url), "/rpc", ec);
    if (upgrade.result() == http::status::unauthorized)
        unauthorized();
    if (ec)
        throw CtlError(5, "WebSocket handshake with " + url.text + " failed: " + ec.message());
    json sub = {{"jsonrpc", "2.0"}, {"id", 1}, {"method", "events.subscribe"}};
    if (!events.empty())
        sub["params"] = {{"events", events}};
    ws.write(asio::buffer(sub.dump()), ec);
    for (;;) {
        beast::flat_buffer buf;
        ws.read(buf, ec);
        if (ec == beast::websocket::error::closed)
            return;
        if (ec)
            throw CtlError(5, "event stream from " + url.text + " ended: " + ec.message());
        auto msg = json::parse(beast::buffers_to_string(buf.data()), nullptr, false);
        if (msg.is_discarded())
            continue;
        if (msg.contains("error")) {
            auto const& e = msg["error"];
            throw CtlError(1, e.value("message", std::string("error")) + " (code " +
                                  std::to_string(e.value("code", 0)) + ")");
        }
        if (msg.contains("result") && msg.value("id", 0) == 1) {
            auto const& subscribed = msg["result"].value("events", json::array());
            std::fprintf(stderr, "seedboxctl: watching %s\n",
                         subscribed.empty() ? "nothing" : subscribed.dump().c_str());
            continue;
        }
        if (msg.contains("method") &&
            !on_event(msg["method"].get<std::string>(), msg.value("params", json::object()))) {
            ws.close(beast::websocket::close_code::normal, ec);
            return;
        }
    }
}

} // namespace

void Client::watch(std::vector<std::string> const& events,
                   std::function<bool(std::string const&, json const&)> const& on_event)
{
    asio::io_context io;
    if (url_.tls) {
        auto ctx = tls_context(cacert_);
        beast::websocket::stream<beast::ssl_stream<beast::tcp_stream>> ws(io, ctx);
        connect(beast::get_lowest_layer(ws), io, url_, timeout_);
        tls_handshake(ws.next_layer(), url_, timeout_);
        run_watch(ws, url_, token_, events, on_event);
        return;
    }
    beast::websocket::stream<beast::tcp_stream> ws(io);
    connect(beast::get_lowest_layer(ws), io, url_, timeout_);
    run_watch(ws, url_, token_, events, on_event);
}

} // namespace seedbox::ctl
