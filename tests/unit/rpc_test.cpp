// The RPC layer's pieces outside the dispatcher: auth, base64, URL fetches, node answers, errors.
#include "rpc/auth.h"
#include "rpc/base64.h"
#include "rpc/brake.h"
#include "rpc/errors.h"
#include "rpc/fetch.h"
#include "rpc/json_limits.h"
#include "rpc/tron_transport.h"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <doctest/doctest.h>
#include <set>

using namespace seedbox::rpc;

TEST_CASE("json depth ignores brackets inside strings")
{
    CHECK(json_depth(R"({"a":[1,{"b":2}]})", 10) == 3);
    CHECK(json_depth(R"({"a":"[[[[[[\"]]]]"})", 10) == 1);
    CHECK(json_depth("[[[[[[[[", 3) == 4);
}

TEST_CASE("token comparison and bearer parsing")
{
    CHECK(token_equal("abc", "abc"));
    CHECK_FALSE(token_equal("abc", "abd"));
    CHECK_FALSE(token_equal("abc", "abcd"));
    CHECK_FALSE(token_equal("", ""));
    CHECK(bearer_token("Bearer xyz") == "xyz");
    CHECK(bearer_token("bearer xyz ") == "xyz");
    CHECK(bearer_token("Basic xyz").empty());
}

TEST_CASE("host and origin checks")
{
    std::vector<std::string> extra{"seedbox.lan"};
    CHECK(host_allowed("localhost:9180", "127.0.0.1", extra));
    CHECK(host_allowed("127.0.0.1:9180", "127.0.0.1", extra));
    CHECK(host_allowed("[::1]:9180", "127.0.0.1", extra));
    CHECK(host_allowed("192.168.1.4", "127.0.0.1", extra)); // IP literals cannot be rebound
    CHECK(host_allowed("SEEDBOX.LAN:80", "127.0.0.1", extra));
    CHECK_FALSE(host_allowed("evil.example", "127.0.0.1", extra));
    CHECK_FALSE(host_allowed("", "127.0.0.1", extra));
    CHECK(origin_allowed("", "localhost:1", {}));
    CHECK_FALSE(origin_allowed("http://evil.example", "localhost:1", {}));
    CHECK(origin_allowed("http://localhost:1", "localhost:1", {}));
    CHECK_FALSE(origin_allowed("http://localhost:2", "localhost:1", {}));
    CHECK(origin_allowed("http://ui.lan", "localhost:1", {"http://ui.lan"}));
}

TEST_CASE("base64 is strict")
{
    std::string out;
    CHECK(base64_decode("aGVsbG8=", out));
    CHECK(out == "hello");
    CHECK(base64_decode("aGk=", out));
    CHECK(out == "hi");
    CHECK(base64_decode("aGVsbG8h", out));
    CHECK(out == "hello!");
    CHECK_FALSE(base64_decode("aGVsbG8", out));
    CHECK_FALSE(base64_decode("a$Vs", out));
    CHECK_FALSE(base64_decode("", out));
    CHECK(base64_encode("hello") == "aGVsbG8=");
}

TEST_CASE("base64 refuses padding in the middle, whitespace and stray bits")
{
    std::string out;
    CHECK_FALSE(base64_decode("aG=sbG8h", out));
    CHECK_FALSE(base64_decode("aGVs\nbG8h", out));
    CHECK_FALSE(base64_decode("aGVsbG8h ", out));
    CHECK_FALSE(base64_decode("aGk====", out));
    CHECK_FALSE(base64_decode("aGl=", out)); // "hi" is aGk=; aGl= has a stray bit
    CHECK(base64_decode("aGk=", out));
}

TEST_CASE("parse cost is estimated before parsing")
{
    std::string ones = "[1";
    for (int i = 0; i < 1000; ++i)
        ones += ",1";
    ones += "]";
    CHECK(json_parsed_bytes(ones) > 30 * ones.size());
    std::string blob = "{\"metainfo\":\"" + std::string(100000, 'A') + "\"}";
    CHECK(json_parsed_bytes(blob) < blob.size() + 1000);
}

TEST_CASE("the wrong-token brake: per address, growing, bounded")
{
    using namespace std::chrono_literals;
    int counted = 0;
    AuthBrake brake({3, 60s, 10s, 40s, 3600s, 2}, [&] { ++counted; });
    auto t = AuthBrake::Clock::now();
    CHECK(brake.failed("192.0.2.1", "HTTP", t) == 0);
    CHECK(brake.failed("192.0.2.1", "HTTP", t) == 0);
    CHECK(brake.failed("192.0.2.1", "HTTP", t) == 10); // the third in a minute
    CHECK(brake.retry_after("192.0.2.1", t + 1s) == 9);
    CHECK(brake.retry_after("192.0.2.2", t) == 0); // another address is never slowed
    CHECK(brake.retry_after("192.0.2.1", t + 11s) == 0);
    for (int i = 0; i < 3; ++i)
        (void)brake.failed("192.0.2.1", "HTTP", t + 20s);
    CHECK(brake.retry_after("192.0.2.1", t + 20s) == 20); // doubled
    CHECK(counted == 6);
    // IPv6 is braked per /64, and v4-mapped addresses as IPv4.
    CHECK(AuthBrake::key_of("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64");
    CHECK(AuthBrake::key_of("::ffff:192.0.2.9") == "192.0.2.9");
    // At most max_tracked (2) addresses are remembered.
    (void)brake.failed("192.0.2.3", "HTTP", t + 21s);
    (void)brake.failed("192.0.2.4", "HTTP", t + 22s);
    CHECK(brake.retry_after("192.0.2.1", t + 22s) == 0); // forgotten, least recent
}

TEST_CASE("URLs for torrent.add: strict syntax, no user info, relative redirects")
{
    auto ok = parse_http_url("https://Example.org:8443/a/b.torrent?x=1#frag");
    REQUIRE(ok);
    CHECK(ok->tls);
    CHECK(ok->host == "Example.org");
    CHECK(ok->port == "8443");
    CHECK(ok->target == "/a/b.torrent?x=1");
    auto v6 = parse_http_url("http://[2001:db8::1]/x");
    REQUIRE(v6);
    CHECK(v6->host == "2001:db8::1");
    CHECK(v6->port == "80");
    CHECK_FALSE(parse_http_url("http://host/a\r\nPOST /admin HTTP/1.1"));
    CHECK_FALSE(parse_http_url("http://host/a b"));
    CHECK_FALSE(parse_http_url("http://user:pw@host/"));
    CHECK_FALSE(parse_http_url("ftp://host/"));
    CHECK_FALSE(parse_http_url("http:///path"));
    CHECK_FALSE(parse_http_url("http://host:99999/"));
    CHECK(parse_http_url("http://host/a")->target == "/a");
    auto rel = parse_http_url("../c?d", &*ok);
    REQUIRE(rel);
    CHECK(rel->text == "https://Example.org:8443/c?d");
    auto abs_path = parse_http_url("/z", &*ok);
    REQUIRE(abs_path);
    CHECK(abs_path->target == "/z");
    CHECK(abs_path->host == "Example.org");
}

TEST_CASE("only public addresses are fetched by default")
{
    auto pub = [](char const* a) { return is_public_address(boost::asio::ip::make_address(a)); };
    CHECK(pub("93.184.216.34"));
    CHECK(pub("2606:2800:220:1:248:1893:25c8:1946"));
    for (auto const* a :
         {"127.0.0.1",       "127.5.6.7",       "10.1.2.3",       "172.16.0.1", "172.31.255.255",
          "192.168.1.1",     "169.254.169.254", "100.64.0.1",     "0.0.0.0",    "224.0.0.1",
          "255.255.255.255", "198.18.0.1",      "192.0.2.1",      "::1",        "::",
          "fe80::1",         "fc00::1",         "fd12::1",        "ff02::1",    "::ffff:127.0.0.1",
          "::ffff:10.0.0.1", "64:ff9b::7f00:1", "2002:7f00:1::1", "2001:db8::1"})
        CHECK_MESSAGE(!pub(a), a);
    CHECK(pub("172.32.0.1"));
    CHECK(pub("::ffff:93.184.216.34"));
}

TEST_CASE("a TRON node answer is JSON of bounded nesting, or an error naming why")
{
    CHECK(read_node_answer("/wallet/getnowblock", 200, R"({"blockID":"ab"})").value()["blockID"] ==
          "ab");
    auto busy = read_node_answer("/wallet/getnowblock", 502, "<html>");
    REQUIRE_FALSE(busy);
    CHECK(busy.error().message.find("HTTP 502") != std::string::npos);
    CHECK_FALSE(read_node_answer("/wallet/getnowblock", 200, "<html>"));
    // Each level would be a recursion in every reader: refused before parsing.
    auto deep =
        read_node_answer("/wallet/getnowblock", 200,
                         "{\"Error\":" + std::string(100000, '[') + std::string(100000, ']') + "}");
    REQUIRE_FALSE(deep);
    CHECK(deep.error().message.find("nests deeper") != std::string::npos);
}

TEST_CASE("error table: every daemon error has exactly one row, every token one code")
{
    using seedbox::daemon::Errc;
    for (int i = static_cast<int>(Errc::torrent_not_found);
         i <= static_cast<int>(seedbox::daemon::kLastErrc); ++i) {
        auto const e = static_cast<Errc>(i);
        auto const n = std::count_if(seedbox::rpc::kinds().begin(), seedbox::rpc::kinds().end(),
                                     [&](auto const& k) { return k.from == e; });
        INFO("Errc " << i);
        CHECK(n == 1);
    }
    std::set<std::string_view> tokens;
    for (auto const& k : seedbox::rpc::kinds())
        CHECK(tokens.insert(k.token).second);
    auto const e = seedbox::rpc::to_rpc({Errc::invalid_argument, "x"});
    CHECK(e.code == -32602);
    CHECK(e.token == "invalid_params");
}
