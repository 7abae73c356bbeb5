// The dispatcher against a small method table and a fake engine (fake_engine.h): envelope, batches,
// params, runs.
#include "config/settings.h"
#include "fake_engine.h"
#include "rpc/dispatch.h"

#include <doctest/doctest.h>
#include <functional>
#include <thread>

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
    seedbox::test::FakeEngine torrents; // no torrents: every id is unknown
    Context ctx{torrents, cfg, token, 0, nullptr, {}, nullptr};
    Dispatcher dispatcher{table(), ctx, {4, 3}};
    FakeConn conn;

    static MethodTable table()
    {
        MethodTable t;
        t.push_back({.name = "echo",
                     .summary = "echo",
                     .mutates = false,
                     .params = {{"text", Type::string, true, ""},
                                Param{"n", Type::integer, false, ""}.range(0, 100)},
                     .result = {{"type", "object"}},
                     .handler = [](Call& c) {
                         return json{{"text", c.arg<std::string>("text")}};
                     }});
        t.push_back({.name = "boom",
                     .summary = "throws",
                     .mutates = false,
                     .params = {},
                     .result = {{"type", "object"}},
                     .handler = [](Call&) -> json {
                         throw RpcError(Err::torrent_not_found, "no such torrent");
                     }});
        t.push_back({.name = "text",
                     .summary = "answers with text it wrote",
                     .result = {{"type", "object"}},
                     .handler = [](Call& c) -> json {
                         c.answer_text(R"({"n":[1,2.5,"\u00e9"]})");
                         return "ignored";
                     }});
        t.push_back({.name = "ws.only",
                     .summary = "",
                     .result = {{"type", "integer"}},
                     .handler = [](Call&) { return json(1); },
                     .websocket_only = true});
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

TEST_CASE("declared ranges, choices and members are enforced with a message naming them")
{
    auto limit = Param{"limit", Type::integer, false, ""}.range(1, 100);
    CHECK(check_param(limit, json(5), "limit").empty());
    CHECK(check_param(limit, json(0), "limit") ==
          "param \"limit\" must be an integer from 1 to 100");
    // 2^64-1 must not wrap to -1 ("unlimited").
    CHECK_FALSE(check_param(limit, json::parse("18446744073709551615"), "limit").empty());
    auto any_int = Param{"n", Type::integer, false, ""}.range(-1, INT64_MAX);
    CHECK_FALSE(check_param(any_int, json::parse("18446744073709551615"), "n").empty());
    CHECK(check_param(any_int, json::parse("9223372036854775807"), "n").empty());

    auto action = Param{"a", Type::string, false, ""}.one_of({"stop", "remove"});
    CHECK(check_param(action, json("stop"), "a").empty());
    CHECK(check_param(action, json("x"), "a") == "param \"a\" must be \"stop\" or \"remove\"");

    auto files = Param{"files", Type::array, true, ""}.of(
        {Param{"index", Type::integer, true, ""}.range(0, 10),
         Param{"priority", Type::integer, false, ""}.range(0, 7)});
    CHECK(check_param(files, json::parse(R"([{"index":1,"priority":7}])"), "files").empty());
    CHECK(check_param(files, json::parse(R"([{"index":1,"priority":4294967303}])"), "files") ==
          "param \"files[0].priority\" must be an integer from 0 to 7");
    CHECK(check_param(files, json::parse(R"([{"priority":1}])"), "files") ==
          "\"files[0]\" needs \"index\"");
    CHECK(check_param(files, json::parse(R"([{"index":1,"x":1}])"), "files") ==
          "unknown member \"x\" in \"files[0]\"");
    CHECK(check_param(files, json::parse(R"(["a"])"), "files") ==
          "param \"files[0]\" must be an object");

    auto trackers = Param{"add", Type::array, false, ""}.of(
        {{"url", Type::string, true, ""}, Param{"tier", Type::integer, false, ""}.range(0, 255)},
        true);
    CHECK(
        check_param(trackers, json::parse(R"(["udp://t:1",{"url":"http://t/a","tier":2}])"), "add")
            .empty());
    CHECK(check_param(trackers, json::parse(R"([{"url":"http://t/a","tier":"x"}])"), "add") ==
          "param \"add[0].tier\" must be an integer");

    auto ratio = Param{"r", Type::number, false, ""}.range(-1, 1000);
    CHECK(check_param(ratio, json(2.5), "r").empty());
    CHECK_FALSE(check_param(ratio, json(1e9), "r").empty());
}

TEST_CASE("every integer param of the real method table declares its range")
{
    std::function<void(std::string const&, std::vector<Param> const&)> walk =
        [&](std::string const& where, std::vector<Param> const& params) {
            for (auto const& p : params) {
                INFO(where << "." << p.name);
                if (p.type == Type::integer)
                    CHECK((p.min.has_value() && p.max.has_value()));
                walk(where + "." + p.name, p.fields);
            }
        };
    auto const table = build_method_table();
    for (auto const& m : table)
        walk(m.name, m.params);
    // rpc.discover publishes them.
    auto doc = openrpc_document(table);
    bool seen = false;
    for (auto const& m : doc["methods"])
        if (m["name"] == "torrent.set")
            for (auto const& p : m["params"])
                if (p["name"] == "max_connections") {
                    CHECK(p["schema"]["minimum"] == -1);
                    CHECK(p["schema"]["maximum"] == 65535);
                    seen = true;
                }
    CHECK(seen);
}

TEST_CASE_FIXTURE(Fixture, "an out-of-range param is refused before the handler runs")
{
    auto r = call(R"({"jsonrpc":"2.0","id":1,"method":"echo","params":{"text":"a","n":1e3}})");
    CHECK(r["error"]["code"] == -32602);
}

TEST_CASE_FIXTURE(Fixture, "a request too costly to parse is refused unparsed")
{
    Dispatcher small{table(), ctx, {4, 3, 4096}};
    std::string ones = "[1";
    for (int i = 0; i < 2000; ++i)
        ones += ",1";
    ones += "]";
    auto r = small.handle(
        R"({"jsonrpc":"2.0","id":1,"method":"echo","params":{"text":"a","n":)" + ones + "}}", conn);
    REQUIRE(r);
    CHECK(json::parse(*r)["error"]["data"]["token"] == "too_large");
}

TEST_CASE_FIXTURE(Fixture, "an unexpected exception in a handler answers -32603")
{
    Method bad{.name = "bad",
               .summary = "",
               .mutates = false,
               .params = {},
               .result = {{"type", "object"}},
               .handler = [](Call&) -> json { throw std::logic_error("oops"); }};
    MethodTable t;
    t.push_back(bad);
    Dispatcher d{t, ctx, {}};
    auto r = d.handle(R"({"jsonrpc":"2.0","id":7,"method":"bad"})", conn);
    REQUIRE(r);
    CHECK(json::parse(*r)["error"]["code"] == -32603);
    CHECK(json::parse(*r)["id"] == 7);
}

TEST_CASE_FIXTURE(Fixture, "slow and deferred methods answer from elsewhere, in batch order")
{
    MethodTable t;
    Method slow{.name = "slow",
                .summary = "",
                .mutates = false,
                .params = {},
                .result = {{"type", "string"}},
                .handler = [](Call&) { return json("from the slow pool"); }};
    slow.runs = Runs::slow;
    t.push_back(slow);
    t.push_back({.name = "later",
                 .summary = "",
                 .mutates = false,
                 .params = {},
                 .result = {{"type", "string"}},
                 .handler = [](Call& c) {
                     auto reply = c.defer();
                     std::thread([reply] { reply.result(json("later")); }).detach();
                     return json();
                 }});
    t.push_back({.name = "dropped",
                 .summary = "",
                 .mutates = false,
                 .params = {},
                 .result = {{"type", "string"}},
                 .handler = [](Call& c) {
                     (void)c.defer(); // never answered: must not hang the client
                     return json();
                 }});
    Dispatcher d{t, ctx, {}};
    auto r = d.handle(R"([{"jsonrpc":"2.0","id":1,"method":"later"},
                          {"jsonrpc":"2.0","id":2,"method":"slow"},
                          {"jsonrpc":"2.0","id":3,"method":"dropped"}])",
                      conn);
    REQUIRE(r);
    auto a = json::parse(*r);
    REQUIRE(a.size() == 3);
    CHECK(a[0]["result"] == "later");
    CHECK(a[1]["result"] == "from the slow pool");
    CHECK(a[2]["error"]["code"] == -32603);
}

TEST_CASE_FIXTURE(Fixture, "before signing in, batches are refused")
{
    conn.auth = false;
    CHECK(call(R"([{"jsonrpc":"2.0","id":1,"method":"echo","params":{"text":"a"}}])")["error"]
                                                                                     ["code"] ==
          -32001);
}

TEST_CASE("the method table refuses what it cannot keep")
{
    auto method = [](std::string name) {
        return Method{.name = std::move(name),
                      .summary = "",
                      .result = {{"type", "object"}},
                      .handler = [](Call&) { return json::object(); }};
    };
    MethodTable t{method("a"), method("b")};
    CHECK_NOTHROW(check_method_table(t));
    t.push_back(method("a"));
    CHECK_THROWS_WITH_AS(check_method_table(t), "method a is declared twice", std::logic_error);
    t.pop_back();
    t[0].params = {{"n", Type::integer, false, ""}};
    CHECK_THROWS_WITH_AS(check_method_table(t), "method a: integer param n has no range",
                         std::logic_error);
    t[0].params = {Param{"n", Type::integer, false, ""}.range(0, 1), {"n", Type::string}};
    CHECK_THROWS_WITH_AS(check_method_table(t), "method a: param n is declared twice",
                         std::logic_error);
    t[0].params = {};
    t[1].result = json::object();
    CHECK_THROWS_WITH_AS(check_method_table(t), "method b has no result schema type",
                         std::logic_error);
    // The daemon's own table passes.
    CHECK_NOTHROW(check_method_table(build_method_table()));
}

TEST_CASE_FIXTURE(Fixture, "a handler that reads an undeclared param answers -32603")
{
    MethodTable t;
    t.push_back({.name = "typo",
                 .summary = "",
                 .params = {{"text", Type::string, false, ""}},
                 .result = {{"type", "string"}},
                 .handler = [](Call& c) { return json(c.arg<std::string>("txet")); }});
    Dispatcher d{t, ctx, {}};
    auto r = d.handle(R"({"jsonrpc":"2.0","id":1,"method":"typo","params":{"text":"a"}})", conn);
    REQUIRE(r);
    auto const e = json::parse(*r)["error"];
    CHECK(e["code"] == -32603);
    CHECK(e["message"].get<std::string>().find("\"txet\", which is not a declared param") !=
          std::string::npos);
}

TEST_CASE_FIXTURE(Fixture, "the daemon's handlers run against a fake torrent engine")
{
    Dispatcher d{build_method_table(), ctx, {}};
    auto const id = std::string(40, 'a');
    auto r = d.handle(R"({"jsonrpc":"2.0","id":1,"method":"torrent.start","params":{"ids":[")" +
                          id + R"("]}})",
                      conn);
    REQUIRE(r);
    CHECK(json::parse(*r)["result"] == json{{"ok", true}});
    CHECK(torrents.started == std::vector<std::string>{id});
    r = d.handle(
        R"({"jsonrpc":"2.0","id":2,"method":"torrent.get","params":{"id":")" + id + R"("}})", conn);
    REQUIRE(r);
    CHECK(json::parse(*r)["error"]["data"]["token"] == "torrent_not_found");
}

TEST_CASE_FIXTURE(Fixture, "a result written as text is answered in the same envelope")
{
    auto one = call(R"({"jsonrpc":"2.0","id":"a\"b","method":"text"})");
    CHECK(one == json::parse(R"({"jsonrpc":"2.0","id":"a\"b","result":{"n":[1,2.5,"é"]}})"));
    auto batch = call(R"([{"jsonrpc":"2.0","id":1,"method":"text"},
                          {"jsonrpc":"2.0","method":"text"},
                          {"jsonrpc":"2.0","id":2,"method":"echo","params":{"text":"x"}}])");
    REQUIRE(batch.size() == 2); // the notification is not answered
    CHECK(batch[0]["id"] == 1);
    CHECK(batch[0]["result"]["n"][1] == 2.5);
    CHECK(batch[1]["result"]["text"] == "x");
    CHECK(!dispatcher.handle(R"({"jsonrpc":"2.0","method":"text"})", conn).has_value());
}
