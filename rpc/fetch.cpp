#include "rpc/fetch.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <spdlog/spdlog.h>
#include <uriparser/Uri.h>

#include <atomic>

namespace seedbox::rpc {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using daemon::Errc;
using daemon::make_error;

namespace {

std::string range_text(UriTextRangeA const& r)
{
    return r.first ? std::string(r.first, r.afterLast) : std::string();
}

// Owns a parsed uriparser URI.
struct ParsedUri {
    UriUriA uri{};
    bool ok = false;
    explicit ParsedUri(char const* text)
    {
        char const* error_pos = nullptr;
        ok = uriParseSingleUriA(&uri, text, &error_pos) == URI_SUCCESS;
    }
    ParsedUri() = default;
    ~ParsedUri() { uriFreeUriMembersA(&uri); }
    ParsedUri(ParsedUri const&) = delete;
    ParsedUri& operator=(ParsedUri const&) = delete;
};

std::string to_string(UriUriA const& uri)
{
    int chars = 0;
    if (uriToStringCharsRequiredA(&uri, &chars) != URI_SUCCESS)
        return {};
    std::string out(static_cast<std::size_t>(chars) + 1, '\0');
    if (uriToStringA(out.data(), &uri, chars + 1, nullptr) != URI_SUCCESS)
        return {};
    out.resize(static_cast<std::size_t>(chars));
    return out;
}

daemon::Error bad_url(std::string const& why)
{
    return make_error(Errc::invalid_argument, "url: " + why);
}

} // namespace

daemon::Result<Url> parse_http_url(std::string const& text, Url const* base)
{
    if (text.size() > 8192)
        return bad_url("longer than 8192 characters");
    for (unsigned char c : text)
        if (c <= 0x20 || c == 0x7f)
            return bad_url("contains whitespace or a control character");
    ParsedUri parsed(text.c_str());
    if (!parsed.ok)
        return bad_url("\"" + text + "\" is not a valid URL (RFC 3986; non-ASCII must be encoded)");
    UriUriA* uri = &parsed.uri;
    ParsedUri resolved;
    if (base && !parsed.uri.scheme.first) {
        ParsedUri base_uri(base->text.c_str());
        if (!base_uri.ok ||
            uriAddBaseUriA(&resolved.uri, &parsed.uri, &base_uri.uri) != URI_SUCCESS)
            return bad_url("cannot resolve \"" + text + "\" against " + base->text);
        resolved.ok = uriMakeOwnerA(&resolved.uri) == URI_SUCCESS; // base_uri dies below
        if (!resolved.ok)
            return bad_url("cannot resolve \"" + text + "\" against " + base->text);
        uri = &resolved.uri;
    }
    Url u;
    auto scheme = range_text(uri->scheme);
    std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (scheme != "http" && scheme != "https")
        return bad_url("\"" + text + "\" is not an http:// or https:// URL");
    u.tls = scheme == "https";
    if (uri->userInfo.first)
        return bad_url("user info (user:password@) is not allowed in the URL");
    if (uri->hostData.ipFuture.first)
        return bad_url("IPvFuture hosts are not supported");
    u.host = range_text(uri->hostText);
    if (u.host.empty())
        return bad_url("the URL has no host");
    if (u.host.find('%') != std::string::npos)
        return bad_url("percent-encoded or zone-scoped hosts are not allowed");
    u.port = range_text(uri->portText);
    if (u.port.empty()) {
        u.port = u.tls ? "443" : "80";
    } else if (u.port.size() > 5 || std::stoul(u.port) == 0 || std::stoul(u.port) > 65535) {
        return bad_url("port " + u.port + " is out of range (1-65535)");
    }
    for (auto* seg = uri->pathHead; seg; seg = seg->next)
        u.target += "/" + range_text(seg->text);
    if (u.target.empty())
        u.target = "/";
    if (uri->query.first)
        u.target += "?" + range_text(uri->query);
    u.text = to_string(*uri);
    u.text = u.text.substr(0, u.text.find('#'));
    return u;
}

bool is_public_address(asio::ip::address const& a)
{
    if (a.is_v6()) {
        auto const v6 = a.to_v6();
        auto const b = v6.to_bytes();
        if (v6.is_v4_mapped())
            return is_public_address(asio::ip::make_address_v4(asio::ip::v4_mapped, v6));
        auto starts = [&](std::initializer_list<unsigned> prefix, unsigned bits) {
            unsigned i = 0;
            for (auto byte : prefix) {
                unsigned const take = std::min(8u, bits - i * 8);
                unsigned const mask = (0xffu << (8 - take)) & 0xffu;
                if ((b[i] & mask) != (byte & mask))
                    return false;
                if (++i * 8 >= bits)
                    break;
            }
            return true;
        };
        auto embedded_v4 = [&](unsigned at) {
            return asio::ip::address_v4(
                asio::ip::address_v4::bytes_type{b[at], b[at + 1], b[at + 2], b[at + 3]});
        };
        if (starts({0x00, 0x64, 0xff, 0x9b}, 96) ||           // NAT64 64:ff9b::/96
            starts({0x00, 0x64, 0xff, 0x9b, 0x00, 0x01}, 48)) // local-use NAT64 64:ff9b:1::/48
            return is_public_address(embedded_v4(12));
        if (starts({0x20, 0x02}, 16)) // 6to4 2002::/16
            return is_public_address(embedded_v4(2));
        bool const reserved =
            starts({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 96) || // ::/96 (::, ::1, v4-compatible)
            starts({0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0}, 96) || // ::ffff:0:0:0/96 SIIT
            starts({0x01, 0x00, 0, 0, 0, 0, 0, 0}, 64) ||             // 100::/64 discard
            starts({0x20, 0x01, 0x00, 0x00}, 23) || // 2001::/23 IETF (Teredo, ORCHID, ...)
            starts({0x20, 0x01, 0x0d, 0xb8}, 32) || // 2001:db8::/32 documentation
            starts({0x3f, 0xff}, 20) ||             // 3fff::/20 documentation
            starts({0xfc}, 7) ||                    // fc00::/7 unique local
            starts({0xfe, 0x80}, 10) ||             // fe80::/10 link-local
            starts({0xfe, 0xc0}, 10) ||             // fec0::/10 site-local
            starts({0xff}, 8);                      // ff00::/8 multicast
        return !reserved;
    }
    auto const v = a.to_v4().to_uint();
    auto in = [v](std::uint32_t net, int bits) {
        auto const mask = bits == 0 ? 0u : ~0u << (32 - bits);
        return (v & mask) == net;
    };
    return !(in(0x00000000, 8) ||  // 0.0.0.0/8 "this network", unspecified
             in(0x0a000000, 8) ||  // 10/8
             in(0x64400000, 10) || // 100.64/10 shared (CGNAT)
             in(0x7f000000, 8) ||  // 127/8 loopback
             in(0xa9fe0000, 16) || // 169.254/16 link-local
             in(0xac100000, 12) || // 172.16/12
             in(0xc0000000, 24) || // 192.0.0/24 IETF protocol assignments
             in(0xc0000200, 24) || // 192.0.2/24 documentation
             in(0xc0586300, 24) || // 192.88.99/24 6to4 relay anycast (deprecated)
             in(0xc0a80000, 16) || // 192.168/16
             in(0xc6120000, 15) || // 198.18/15 benchmarking
             in(0xc6336400, 24) || // 198.51.100/24 documentation
             in(0xcb007100, 24) || // 203.0.113/24 documentation
             in(0xe0000000, 4) ||  // 224/4 multicast
             in(0xf0000000, 4));   // 240/4 reserved, broadcast
}

namespace {

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
    auto const default_port = u.port == (u.tls ? "443" : "80");
    auto const host = u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;
    req.set(http::field::host, default_port ? host : host + ":" + u.port);
    req.set(http::field::user_agent, "seedboxd");
    req.set(http::field::connection, "close");
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
    beast::flat_buffer buf(64 * 1024);
    http::response_parser<http::string_body> parser;
    parser.body_limit(max_bytes);
    parser.header_limit(32 * 1024);
    co_await http::async_read(stream, buf, parser, asio::use_awaitable);
    co_return parser.release();
}

// One request to one of `endpoints` (already resolved and checked), bounded by `deadline`.
asio::awaitable<http::response<http::string_body>>
exchange_once(Url const& u, tcp::resolver::results_type const& endpoints, Outgoing const& out,
              std::size_t max_bytes, std::chrono::steady_clock::time_point deadline)
{
    auto ex = co_await asio::this_coro::executor;
    if (!u.tls) {
        beast::tcp_stream stream(ex);
        stream.expires_at(deadline);
        co_await stream.async_connect(endpoints, asio::use_awaitable);
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
    beast::get_lowest_layer(stream).expires_at(deadline);
    co_await beast::get_lowest_layer(stream).async_connect(endpoints, asio::use_awaitable);
    co_await stream.async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
    co_return co_await exchange(stream, u, out, max_bytes);
}

// A refusal by policy: its text is for the caller (no network detail in it).
struct Refused : std::runtime_error {
    using std::runtime_error::runtime_error;
};

asio::awaitable<tcp::resolver::results_type> resolve_checked(Url const& u, bool allow_private)
{
    auto ex = co_await asio::this_coro::executor;
    tcp::resolver resolver(ex);
    auto results = co_await resolver.async_resolve(u.host, u.port, tcp::resolver::numeric_service,
                                                   asio::use_awaitable);
    if (!allow_private)
        for (auto const& r : results)
            if (!is_public_address(r.endpoint().address()))
                throw Refused("url: " + u.host +
                              " is a loopback, private, link-local, multicast or reserved "
                              "address; set torrent.url_allow_private=true to allow it");
    co_return results;
}

asio::awaitable<Fetched> fetch_hops(Url first, FetchPolicy policy,
                                    std::chrono::steady_clock::time_point deadline)
{
    Url u = std::move(first);
    // A named object, not a temporary in the co_await expression: GCC 12 destroys such a
    // temporary at the wrong time (a double free was the result).
    Outgoing const get{};
    for (int hop = 0;; ++hop) {
        auto endpoints = co_await resolve_checked(u, policy.allow_private);
        auto res = co_await exchange_once(u, endpoints, get, policy.max_bytes, deadline);
        auto const status = res.result_int();
        if (status >= 300 && status < 400 && res.count(http::field::location)) {
            auto loc = std::string(res[http::field::location]);
            if (hop >= policy.max_redirects)
                throw Refused("url: more than " + std::to_string(policy.max_redirects) +
                              " redirects");
            if (loc.rfind("magnet:", 0) == 0)
                co_return Fetched{{}, std::move(loc)};
            auto next = parse_http_url(loc, &u);
            if (!next)
                throw Refused("url: a redirect led to an unusable URL (" + next.error().message +
                              ")");
            u = std::move(next.value());
            continue;
        }
        if (status != 200)
            throw std::runtime_error("HTTP " + std::to_string(status) + " from " + u.text);
        co_return Fetched{std::move(res.body()), {}};
    }
}

std::string describe(std::exception_ptr e, std::size_t max_bytes)
{
    try {
        std::rethrow_exception(e);
    } catch (beast::system_error const& se) {
        return se.code() == http::error::body_limit
                   ? "the response is larger than " + std::to_string(max_bytes) + " bytes"
                   : se.code().message();
    } catch (std::exception const& ex) {
        return ex.what();
    }
}

} // namespace

void fetch_url(asio::any_io_executor ex, std::string const& url, FetchPolicy const& policy,
               std::function<void(daemon::Result<Fetched>)> done)
{
    auto parsed = parse_http_url(url);
    if (!parsed)
        return asio::post(ex, [done = std::move(done), e = parsed.error()] {
            done(make_error(Errc::fetch_failed, e.message));
        });
    // The first of the fetch and the deadline answers; the other finds `once` spent.
    struct Once {
        Once(asio::any_io_executor ex, std::function<void(daemon::Result<Fetched>)> d,
             std::chrono::steady_clock::time_point deadline)
            : done(std::move(d)), timer(std::move(ex), deadline)
        {
        }
        std::function<void(daemon::Result<Fetched>)> done;
        std::atomic<bool> spent{false};
        asio::steady_timer timer;
        void operator()(daemon::Result<Fetched> r)
        {
            if (!spent.exchange(true)) {
                timer.cancel();
                done(std::move(r));
            }
        }
    };
    auto const deadline = std::chrono::steady_clock::now() + policy.timeout;
    auto once = std::make_shared<Once>(ex, std::move(done), deadline);
    auto const text = parsed.value().text;
    static std::string const kFailed =
        "url: fetching the .torrent failed (network error, timeout or an HTTP error; the daemon "
        "log has the details)";
    once->timer.async_wait([once, text, policy](boost::system::error_code ec) {
        if (ec)
            return;
        spdlog::warn("torrent.add: fetching {} failed: no answer within {} ms", text,
                     policy.timeout.count());
        (*once)(make_error(Errc::fetch_failed, kFailed));
    });
    asio::co_spawn(ex, fetch_hops(std::move(parsed.value()), policy, deadline),
                   [once, text, max = policy.max_bytes](std::exception_ptr e, Fetched f) {
                       if (!e)
                           return (*once)(std::move(f));
                       try {
                           std::rethrow_exception(e);
                       } catch (Refused const& r) {
                           return (*once)(make_error(Errc::fetch_failed, r.what()));
                       } catch (...) {
                       }
                       if (!once->spent)
                           spdlog::warn("torrent.add: fetching {} failed: {}", text,
                                        describe(e, max));
                       (*once)(make_error(Errc::fetch_failed, kFailed));
                   });
}

daemon::Result<HttpReply> post_json(std::string const& url, std::string body,
                                    std::vector<std::pair<std::string, std::string>> headers,
                                    std::size_t max_bytes, std::chrono::milliseconds timeout)
{
    auto u = parse_http_url(url);
    if (!u)
        return u.error();
    // A private io_context on the calling thread, bounded by `timeout`.
    asio::io_context io;
    auto const deadline = std::chrono::steady_clock::now() + timeout;
    Outgoing const out{http::verb::post, std::move(body), std::move(headers)};
    std::optional<http::response<http::string_body>> res;
    std::string error;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<http::response<http::string_body>> {
            auto ex = co_await asio::this_coro::executor;
            tcp::resolver resolver(ex);
            auto endpoints = co_await resolver.async_resolve(u.value().host, u.value().port,
                                                             tcp::resolver::numeric_service,
                                                             asio::use_awaitable);
            co_return co_await exchange_once(u.value(), endpoints, out, max_bytes, deadline);
        },
        [&](std::exception_ptr e, http::response<http::string_body> r) {
            if (e)
                error = describe(e, max_bytes);
            else
                res = std::move(r);
        });
    io.run_until(deadline);
    if (!res && error.empty())
        error = "timed out after " + std::to_string(timeout.count()) + " ms";
    if (!res)
        return make_error(Errc::fetch_failed, error);
    return HttpReply{static_cast<int>(res->result_int()), std::move(res->body())};
}

} // namespace seedbox::rpc
