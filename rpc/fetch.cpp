#include "rpc/fetch.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/evp.h>

#include <regex>

namespace seedbox::rpc {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using daemon::Errc;
using daemon::make_error;

namespace {

struct Url {
    bool tls = false;
    std::string host, port, target;
};

std::optional<Url> parse_url(std::string const& url)
{
    static std::regex const re(
        R"(^(https?)://(\[[0-9a-fA-F:.]+\]|[^/:?#\[\]@]+)(?::(\d{1,5}))?([/?][^#]*)?(#.*)?$)",
        std::regex::icase);
    std::smatch m;
    if (!std::regex_match(url, m, re))
        return std::nullopt;
    Url u;
    auto scheme = m[1].str();
    u.tls = scheme.size() == 5;
    u.host = m[2].str();
    if (u.host.front() == '[')
        u.host = u.host.substr(1, u.host.size() - 2);
    u.port = m[3].matched ? m[3].str() : (u.tls ? "443" : "80");
    u.target = m[4].matched ? m[4].str() : "/";
    if (u.target.front() == '?')
        u.target = "/" + u.target;
    return u;
}

// What to send: a GET for a .torrent, or a POST of a JSON body (TRON node API).
struct Outgoing {
    http::verb verb = http::verb::get;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
};

template <class Stream>
asio::awaitable<http::response<http::string_body>>
exchange(Stream& stream, Url const& u, Outgoing const& out, std::size_t max_bytes)
{
    http::request<http::string_body> req{out.verb, u.target, 11};
    req.set(http::field::host, u.host);
    req.set(http::field::user_agent, "seedboxd");
    if (out.verb == http::verb::get) {
        req.set(http::field::accept, "application/x-bittorrent, */*");
    } else {
        req.set(http::field::content_type, "application/json");
        req.set(http::field::accept, "application/json");
        req.body() = out.body;
        req.prepare_payload();
    }
    for (auto const& [k, v] : out.headers)
        req.set(k, v);
    co_await http::async_write(stream, req, asio::use_awaitable);
    beast::flat_buffer buf;
    http::response_parser<http::string_body> parser;
    parser.body_limit(max_bytes);
    co_await http::async_read(stream, buf, parser, asio::use_awaitable);
    co_return parser.release();
}

asio::awaitable<http::response<http::string_body>> get_once(Url const& u, Outgoing const& out,
                                                            std::size_t max_bytes)
{
    auto ex = co_await asio::this_coro::executor;
    asio::ip::tcp::resolver resolver(ex);
    auto results = co_await resolver.async_resolve(u.host, u.port, asio::use_awaitable);
    if (!u.tls) {
        beast::tcp_stream stream(ex);
        co_await stream.async_connect(results, asio::use_awaitable);
        co_return co_await exchange(stream, u, out, max_bytes);
    }
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.set_default_verify_paths();
    ctx.set_verify_mode(asio::ssl::verify_peer);
    beast::ssl_stream<beast::tcp_stream> stream(ex, ctx);
    if (!SSL_set_tlsext_host_name(stream.native_handle(), u.host.c_str()))
        throw beast::system_error(beast::error_code(static_cast<int>(::ERR_get_error()),
                                                    asio::error::get_ssl_category()));
    stream.set_verify_callback(asio::ssl::host_name_verification(u.host));
    co_await beast::get_lowest_layer(stream).async_connect(results, asio::use_awaitable);
    co_await stream.async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
    co_return co_await exchange(stream, u, out, max_bytes);
}

// Runs one exchange on a private io_context for at most `timeout`; the response or an error.
daemon::Result<http::response<http::string_body>> run_once(Url const& u, Outgoing const& out,
                                                           std::size_t max_bytes,
                                                           std::chrono::milliseconds timeout)
{
    asio::io_context io;
    std::optional<http::response<http::string_body>> res;
    std::string error;
    asio::co_spawn(io, get_once(u, out, max_bytes),
                   [&](std::exception_ptr e, http::response<http::string_body> r) {
                       if (!e) {
                           res = std::move(r);
                           return;
                       }
                       try {
                           std::rethrow_exception(e);
                       } catch (beast::system_error const& se) {
                           error = se.code() == http::error::body_limit
                                       ? "the response is larger than " +
                                             std::to_string(max_bytes) + " bytes"
                                       : se.code().message();
                       } catch (std::exception const& ex) {
                           error = ex.what();
                       }
                   });
    io.run_for(timeout);
    if (!res && error.empty())
        error = "timed out after " + std::to_string(timeout.count()) + " ms";
    if (!res)
        return make_error(Errc::fetch_failed, error);
    return std::move(*res);
}

} // namespace

daemon::Result<HttpReply> post_json(std::string const& url, std::string body,
                                    std::vector<std::pair<std::string, std::string>> headers,
                                    std::size_t max_bytes, std::chrono::milliseconds timeout)
{
    auto u = parse_url(url);
    if (!u)
        return make_error(Errc::invalid_argument,
                          "\"" + url + "\" is not an http:// or https:// URL");
    auto r =
        run_once(*u, {http::verb::post, std::move(body), std::move(headers)}, max_bytes, timeout);
    if (!r)
        return r.error();
    return HttpReply{static_cast<int>(r.value().result_int()), std::move(r.value().body())};
}

daemon::Result<Fetched> fetch_url(std::string const& url, std::size_t max_bytes,
                                  std::chrono::seconds timeout)
{
    std::string current = url;
    for (int hop = 0; hop <= 5; ++hop) {
        if (current.rfind("magnet:", 0) == 0)
            return Fetched{{}, current};
        auto u = parse_url(current);
        if (!u)
            return make_error(Errc::fetch_failed,
                              "url: \"" + current + "\" is not an http:// or https:// URL");
        auto r = run_once(*u, {}, max_bytes, timeout);
        if (!r)
            return make_error(Errc::fetch_failed,
                              "fetching " + current + " failed: " + r.error().message);
        auto res = &r.value();
        auto status = res->result_int();
        if (status >= 300 && status < 400 && res->count(http::field::location)) {
            auto loc = std::string((*res)[http::field::location]);
            if (loc.rfind("/", 0) == 0)
                loc = (u->tls ? "https://" : "http://") + u->host + ":" + u->port + loc;
            current = loc;
            continue;
        }
        if (status != 200)
            return make_error(Errc::fetch_failed,
                              "fetching " + current + " failed: HTTP " + std::to_string(status));
        return Fetched{std::move(res->body()), {}};
    }
    return make_error(Errc::fetch_failed, "fetching " + url + " failed: too many redirects");
}

bool base64_decode(std::string const& in, std::string& out)
{
    std::string clean;
    clean.reserve(in.size());
    for (char c : in)
        if (c != '\n' && c != '\r' && c != ' ' && c != '\t')
            clean += c;
    if (clean.empty() || clean.size() % 4 != 0)
        return false;
    out.resize(clean.size() / 4 * 3);
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<unsigned char const*>(clean.data()),
                            static_cast<int>(clean.size()));
    if (n < 0)
        return false;
    std::size_t pad = 0;
    if (clean.back() == '=')
        ++pad;
    if (clean.size() > 1 && clean[clean.size() - 2] == '=')
        ++pad;
    out.resize(static_cast<std::size_t>(n) - pad);
    return true;
}

std::string base64_encode(std::string const& in)
{
    std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<unsigned char const*>(in.data()),
                            static_cast<int>(in.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

} // namespace seedbox::rpc
