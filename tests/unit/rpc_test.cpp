#include "config/settings.h"
#include "rpc/auth.h"
#include "rpc/dispatch.h"
#include "rpc/fetch.h"
#include "rpc/json_limits.h"

#include <doctest/doctest.h>

using namespace seedbox::rpc;

namespace {

struct FakeConn : Connection {
    bool ws = false, auth = true;
    bool websocket() const override { return ws; }
    bool authenticated() const override { return auth; }
    void set_authenticated() override { auth = true; }
    void subscribe(std::vector<std::string> const&, bool) override {}
};

struct Fixture {
    std::string token = "0123456789abcdef0123";
    seedbox::config::Config cfg;
    // The engine is never touched by these methods.
    Context ctx{
        *reinterpret_cast<seedbox::daemon::Engine*>(this), cfg, token, 0, nullptr, {}, nullptr};
    Dispatcher dispatcher{table(), ctx, {4, 3}};
    FakeConn conn;

    static MethodTable table()
    {
        MethodTable t;
        t.push_back({"echo",
                     "echo",
                     false,
                     {{"text", Type::string, true, ""}, {"n", Type::integer, false, ""}},
                     {},
                     [](Call& c) {
                         return json{{"text", c.arg<std::string>("text")}};
                     }});
        t.push_back({"boom", "throws", false, {}, {}, [](Call&) -> json {
                         throw RpcError(kTorrentNotFound, "torrent_not_found", "no such torrent");
                     }});
        Method ws{"ws.only", "", false, {}, {}, [](Call&) { return json(1); }};
        ws.websocket_only = true;
        t.push_back(ws);
        return t;
    }

    json call(std::string const& body)
    {
        auto r = dispatcher.handle(body, conn);
        return r ? json::parse(*r) : json();
    }
};

} // namespace

TEST_CASE_FIXTURE(Fixture, "JSON-RPC envelope and standard errors")
{
    CHECK(call(R"({"jsonrpc":"2.0","id":1,"method":"echo","params":{"text":"hi"}})")["result"]
                                                                                    ["text"] ==
          "hi");
    CHECK(call("{oops")["error"]["code"] == -32700);
    CHECK(call("42")["error"]["code"] == -32600);
    CHECK(call(R"({"id":1,"method":"echo"})")["error"]["code"] == -32600);
    CHECK(call(R"({"jsonrpc":"2.0","id":{},"method":"echo"})")["error"]["code"] == -32600);
    CHECK(call(R"({"jsonrpc":"2.0","id":1,"method":3})")["error"]["code"] == -32600);
    CHECK(call(R"({"jsonrpc":"2.0","id":1,"method":"nope"})")["error"]["code"] == -32601);
    auto missing = call(R"({"jsonrpc":"2.0","id":1,"method":"echo","params":{}})");
    CHECK(missing["error"]["code"] == -32602);
    CHECK(missing["error"]["message"].get<std::string>().find("\"text\"") != std::string::npos);
    auto wrong = call(R"({"jsonrpc":"2.0","id":1,"method":"echo","params":{"text":1}})");
    CHECK(wrong["error"]["message"].get<std::string>().find("must be a string") !=
          std::string::npos);
    auto unknown = call(R"({"jsonrpc":"2.0","id":1,"method":"echo","params":{"text":"a","x":1}})");
    CHECK(unknown["error"]["message"].get<std::string>().find("unknown param \"x\"") !=
          std::string::npos);
    CHECK(call(R"({"jsonrpc":"2.0","id":1,"method":"echo","params":["a"]})")["error"]["code"] ==
          -32602);
    auto domain = call(R"({"jsonrpc":"2.0","id":"x","method":"boom"})");
    CHECK(domain["id"] == "x");
    CHECK(domain["error"]["code"] == 1001);
    CHECK(domain["error"]["data"]["token"] == "torrent_not_found");
    CHECK(call(R"({"jsonrpc":"2.0","id":1,"method":"ws.only"})")["error"]["data"]["token"] ==
          "websocket_only");
}

TEST_CASE_FIXTURE(Fixture, "batches, notifications and limits")
{
    auto batch = call(R"([{"jsonrpc":"2.0","id":1,"method":"echo","params":{"text":"a"}},
                          {"jsonrpc":"2.0","method":"echo","params":{"text":"b"}},
                          {"jsonrpc":"2.0","id":2,"method":"nope"}])");
    REQUIRE(batch.is_array());
    CHECK(batch.size() == 2); // the notification gets no answer
    CHECK(batch[1]["error"]["code"] == -32601);
    CHECK(call("[]")["error"]["code"] == -32600);
    CHECK(call(R"([1,2,3,4])")["error"]["data"]["token"] == "batch_too_large");
    CHECK_FALSE(
        dispatcher.handle(R"({"jsonrpc":"2.0","method":"echo","params":{"text":"a"}})", conn));
    CHECK(call(R"({"jsonrpc":"2.0","id":1,"method":"echo","params":{"text":[[[[[1]]]]]}})")
              ["error"]["data"]["token"] == "too_deep");
}

TEST_CASE_FIXTURE(Fixture, "an unauthenticated WebSocket may only call public methods")
{
    conn.auth = false;
    CHECK(
        call(
            R"({"jsonrpc":"2.0","id":1,"method":"echo","params":{"text":"a"}})")["error"]["code"] ==
        -32001);
}

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
