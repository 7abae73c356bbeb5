// Transmission 4.1's JSON-RPC 2.0 form on /transmission/rpc (rpc/transmission/jsonrpc.cpp,
// names.cpp) against a fake engine (fake_engine.h) holding one torrent: raw bodies in, the
// answers 4.1.3 gives asserted literally (codes, messages, data, ids, snake_case names at every
// depth).
#include "config/settings.h"
#include "fake_engine.h"
#include "rpc/transmission/internal.h"
#include "rpc/transmission/transmission.h"

#include <doctest/doctest.h>

#include <cctype>

namespace tr = seedbox::rpc::transmission;
namespace core = seedbox::daemon;
using json = nlohmann::json;

namespace {

std::string const kHash = "0123456789abcdef0123456789abcdef01234567";

// One torrent, named like a legacy field so that a converted value would show; removing it fails
// as a full disk would.
seedbox::test::FakeEngine one_torrent()
{
    seedbox::test::FakeEngine e({seedbox::test::fake_torrent(1, kHash, "hashString")});
    e.removed = {7};
    e.stats.uploaded = 1234;
    e.settings = {{"dht", true}, {"encryption", std::string("disabled")}};
    e.failures.emplace("remove", core::Error{core::Errc::storage_failed, "state.db: disk full"});
    return e;
}

struct Fixture {
    std::string token = "0123456789abcdef0123";
    seedbox::config::Config cfg;
    seedbox::test::FakeEngine engine = one_torrent();
    seedbox::rpc::Context ctx{engine, cfg, token, 0, nullptr, {}, nullptr};

    // The answer to `body`, parsed; fails the test when there is none.
    json call(std::string const& body)
    {
        auto answer = tr::respond(ctx, body);
        REQUIRE(answer.has_value());
        return json::parse(*answer);
    }
    // One JSON-RPC call with id 1.
    json rpc(std::string const& method, json params = json::object())
    {
        return call(
            json{{"jsonrpc", "2.0"}, {"method", method}, {"params", params}, {"id", 1}}.dump());
    }
};

// Every key at every depth is 4.1's snake_case: no '-', no capital.
void check_snake_keys(json const& v)
{
    if (v.is_object())
        for (auto const& [key, child] : v.items()) {
            std::string const& k = key; // doctest's INFO captures it: clang 14 cannot a binding
            INFO("key " << k);
            CHECK(k.find('-') == std::string::npos);
            CHECK(std::none_of(k.begin(), k.end(),
                               [](unsigned char c) { return std::isupper(c) != 0; }));
            check_snake_keys(child);
        }
    else if (v.is_array())
        for (auto const& child : v)
            check_snake_keys(child);
}

// An error without data, and one with data.error_string.
json bare_error(int code, std::string const& message, json id = 1)
{
    return {{"jsonrpc", "2.0"}, {"error", {{"code", code}, {"message", message}}}, {"id", id}};
}

json error_of(int code, std::string const& message, std::string const& detail, json id = 1)
{
    auto e = bare_error(code, message, std::move(id));
    e["error"]["data"] = {{"error_string", detail}};
    return e;
}

} // namespace

TEST_CASE("transmission names: 4.1's table both ways")
{
    CHECK(tr::legacy_name("torrent_get", false) == "torrent-get");
    CHECK(tr::legacy_name("hash_string", true) == "hashString");
    CHECK(tr::legacy_name("download_dir", true) == "downloadDir");
    CHECK(tr::legacy_name("download_dir", false) == "download-dir");
    CHECK(tr::legacy_name("cache_size_mib", false) == "cache-size-mb");
    CHECK(tr::legacy_name("is_utp", true) == "isUTP");
    CHECK(tr::legacy_name("labels", true) == "labels");           // the same in both forms
    CHECK_FALSE(tr::legacy_name("hashString", true).has_value()); // legacy-only spelling
    CHECK_FALSE(tr::legacy_name("torrent-get", false).has_value());
    CHECK(tr::current_name("downloadDir") == "download_dir");
    CHECK(tr::current_name("download-dir") == "download_dir");
    CHECK(tr::current_name("current-stats") == "current_stats");
    CHECK(tr::current_name("peer-limit") == "peer_limit");
    CHECK(tr::current_name("total_size") == "total_size");
    CHECK(tr::current_name("name") == "name");
}

TEST_CASE_FIXTURE(Fixture,
                  "transmission JSON-RPC: torrent_get answers in snake_case at every depth")
{
    auto r = rpc("torrent_get",
                 {{"ids", {1}},
                  {"fields",
                   {"id", "hash_string", "download_dir", "total_size", "files", "file_stats",
                    "peers", "tracker_stats", "wanted", "file_count", "downloadDir"}}});
    REQUIRE(r.contains("result"));
    CHECK(r["jsonrpc"] == "2.0");
    CHECK(r["id"] == 1);
    check_snake_keys(r["result"]);
    auto const& t = r["result"]["torrents"].at(0);
    CHECK(t["hash_string"] == kHash);
    CHECK(t["download_dir"] == "/data");
    CHECK(t["total_size"] == 300);
    CHECK(t["file_count"] == 2);
    CHECK(t["files"][0]["bytes_completed"] == 50);
    CHECK(t["file_stats"][1]["wanted"] == false);
    CHECK(t["peers"][0]["client_name"] == "Transmission 4.1.3");
    CHECK(t["peers"][0]["is_utp"] == true);
    CHECK(t["tracker_stats"][0]["last_announce_succeeded"] == true);
    CHECK(t["wanted"] == json::array({true, false})); // 0/1 in the legacy form
    CHECK(t.size() == 10); // downloadDir, a legacy spelling, is not a 4.1 field
}

TEST_CASE_FIXTURE(Fixture, "transmission JSON-RPC: table format converts the header row only")
{
    auto r =
        rpc("torrent_get", {{"fields", {"name", "hash_string", "wanted"}}, {"format", "table"}});
    auto const& rows = r["result"]["torrents"];
    REQUIRE(rows.size() == 2);
    CHECK(rows[0] == json::array({"name", "hash_string", "wanted"}));
    CHECK(rows[1] == json::array({"hashString", kHash, json::array({true, false})}));
}

TEST_CASE_FIXTURE(Fixture, "transmission JSON-RPC: ids and fields strings are names too")
{
    auto r = rpc("torrent_get", {{"ids", "recently_active"}, {"fields", {"id"}}});
    CHECK(r["result"]["removed"] == json::array({7}));
    CHECK(r["result"]["torrents"].size() == 1);
    // The legacy spelling names no torrents in 4.1's JSON-RPC form; the legacy field none.
    r = rpc("torrent_get", {{"ids", "recently-active"}, {"fields", {"id"}}});
    CHECK(r["result"]["torrents"] == json::array());
    CHECK(rpc("torrent_get", {{"fields", {"hashString"}}}) ==
          error_of(-32602, "Invalid params", "no fields specified"));
}

TEST_CASE_FIXTURE(Fixture, "transmission JSON-RPC: session_get and session_stats")
{
    auto r = rpc("session_get");
    check_snake_keys(r["result"]);
    CHECK(r["result"].contains("rpc_version"));
    CHECK(r["result"].contains("rpc_version_semver"));
    CHECK(r["result"]["units"].contains("speed_units"));
    CHECK(r["result"]["encryption"] == "allowed"); // legacy "tolerated"
    r = rpc("session_get", {{"fields", {"rpc_version", "download_dir", "peer-port"}}});
    CHECK(r["result"].size() == 2);
    CHECK(r["result"].contains("download_dir"));
    r = rpc("session_stats");
    check_snake_keys(r["result"]);
    CHECK(r["result"]["current_stats"]["uploaded_bytes"] == 1234);
    CHECK(r["result"]["torrent_count"] == 1);
}

TEST_CASE_FIXTURE(Fixture, "transmission JSON-RPC: params reach the legacy handler in its names")
{
    auto r = rpc("torrent_add", {{"filename", "magnet:?xt=urn:btih:" + kHash},
                                 {"download_dir", "/data/tv"},
                                 {"labels", {"tv"}}});
    REQUIRE(engine.added.has_value());
    CHECK(engine.added->save_path == "/data/tv");
    CHECK(engine.added->labels == std::vector<std::string>{"tv"});
    CHECK(r["result"]["torrent_added"]["hash_string"] == kHash);
    r = rpc("torrent_set", {{"ids", {kHash}}, {"files_unwanted", {0}}});
    CHECK(r["result"] == json::object());
    REQUIRE(engine.file_changes.size() == 1);
    CHECK(engine.file_changes[0].wanted == false);
}

TEST_CASE_FIXTURE(Fixture, "transmission JSON-RPC: errors as 4.1 forms them")
{
    CHECK(rpc("no_such_method") == bare_error(-32601, "Method not found"));
    CHECK(rpc("torrent-get", {{"fields", {"id"}}}) == bare_error(-32601, "Method not found"));
    CHECK(call(R"({"jsonrpc":"2.0","id":1})") == bare_error(-32601, "Method not found"));
    CHECK(rpc("torrent_add") ==
          error_of(-32602, "Invalid params", "no filename or metainfo specified"));
    // The detail says no more than the message: no data.
    CHECK(rpc("torrent_add", {{"metainfo", "!!"}}) ==
          bare_error(9, "invalid or corrupt torrent file"));
    // A daemon error: its code's message, its own words as the detail.
    CHECK(rpc("torrent_remove", {{"ids", {1}}}) ==
          error_of(5, "system error", "state.db: disk full"));
    // Params by position are not supported: they count as none.
    CHECK(call(R"({"jsonrpc":"2.0","method":"torrent_get","params":["id"],"id":1})") ==
          error_of(-32602, "Invalid params", "no fields specified"));
}

TEST_CASE_FIXTURE(Fixture, "transmission JSON-RPC: ids and the jsonrpc member")
{
    auto r = call(R"({"jsonrpc":"2.0","method":"session_stats","id":"abc"})");
    CHECK(r["id"] == "abc");
    r = call(R"({"jsonrpc":"2.0","method":"session_stats","id":1.5})");
    CHECK(r["id"] == 1.5);
    r = call(R"({"jsonrpc":"2.0","method":"session_stats","id":null})");
    CHECK(r["id"].is_null());
    CHECK(r.contains("result"));
    CHECK(call(R"({"jsonrpc":"2.0","method":"session_stats","id":true})") ==
          error_of(-32600, "Invalid Request", "id type must be String, Number, or Null", nullptr));
    CHECK(call(R"({"jsonrpc":"1.0","method":"session_stats","id":1})") ==
          error_of(-32600, "Invalid Request", "JSON-RPC version is not 2.0", nullptr));
    // A jsonrpc member that is not a string: 4.1 takes the body for the legacy form.
    r = call(R"({"jsonrpc":2,"method":"session-stats","tag":5})");
    CHECK(r["result"] == "success");
    CHECK(r["tag"] == 5);
}

TEST_CASE_FIXTURE(Fixture, "transmission JSON-RPC: notifications get no answer")
{
    CHECK_FALSE(
        tr::respond(ctx, R"({"jsonrpc":"2.0","method":"torrent_start","params":{"ids":[1]}})")
            .has_value());
    CHECK(engine.started == std::vector<std::string>{kHash}); // run all the same
    int const lists = engine.lists;
    CHECK_FALSE(
        tr::respond(ctx, R"({"jsonrpc":"2.0","method":"torrent_get","params":{"fields":["id"]}})")
            .has_value());
    CHECK(engine.lists == lists); // a method without side effects is not run
    CHECK_FALSE(tr::respond(ctx, R"({"jsonrpc":"2.0","method":"nope"})").has_value());
    CHECK(tr::handle(ctx, R"({"jsonrpc":"2.0","method":"nope"})").empty());
}

TEST_CASE_FIXTURE(Fixture, "transmission JSON-RPC: a batch answers in order without notifications")
{
    auto r = call(R"([{"jsonrpc":"2.0","method":"session_stats","id":1},
                      {"jsonrpc":"2.0","method":"torrent_start"},
                      {"jsonrpc":"2.0","method":"session_stats","id":"2"},
                      {"foo":"boo"}, 1,
                      {"jsonrpc":"2.0","method":"nope","id":3},
                      {"jsonrpc":"2.0","method":"nope"},
                      {"method":"session-stats","tag":4}])");
    REQUIRE(r.is_array());
    REQUIRE(r.size() == 6);
    CHECK(r[0]["id"] == 1);
    CHECK(r[0].contains("result"));
    CHECK(r[1]["id"] == "2");
    CHECK(r[2] == error_of(-32600, "Invalid Request", "JSON-RPC version is not 2.0", nullptr));
    CHECK(r[3] == error_of(-32600, "Invalid Request", "request must be an Object", nullptr));
    CHECK(r[4] == bare_error(-32601, "Method not found", 3));
    CHECK(r[5] == error_of(-32600, "Invalid Request", "JSON-RPC version is not 2.0", nullptr));
}

TEST_CASE_FIXTURE(Fixture, "transmission JSON-RPC: hostile and empty batches")
{
    CHECK_FALSE(tr::respond(ctx, R"( [{"jsonrpc":"2.0","method":"torrent_stop"}])").has_value());
    CHECK(tr::respond(ctx, "[]") ==
          R"({"error":{"code":-32600,"message":"Invalid Request"},"id":null,"jsonrpc":"2.0"})");
    auto r = call("[{\"jsonrpc\":");
    CHECK(r["error"]["code"] == -32700);
    CHECK(r["error"]["message"] == "Parse error");
    CHECK(r["error"]["data"]["error_string"].is_string());
    CHECK(r["id"].is_null());
    cfg.rpc.max_batch = 2;
    r = call(R"([{"jsonrpc":"2.0","method":"session_stats","id":1},1,2])");
    CHECK(r == error_of(-32600, "Invalid Request",
                        "a batch of 3 requests; the limit is 2 (rpc.max_batch)", nullptr));
    r = call("[" + std::string(100, '[') + std::string(100, ']') + "]");
    CHECK(r["error"]["code"] == -32600);
    CHECK(r["error"]["data"]["error_string"] == "JSON nested deeper than rpc.max_json_depth");
}

TEST_CASE_FIXTURE(Fixture, "transmission legacy form: unchanged beside JSON-RPC")
{
    auto r =
        call(R"({"method":"torrent-get","arguments":{"fields":["hashString","wanted"]},"tag":9})");
    CHECK(r["result"] == "success");
    CHECK(r["tag"] == 9);
    CHECK(r["arguments"]["torrents"][0]["hashString"] == kHash);
    CHECK(r["arguments"]["torrents"][0]["wanted"] == json::array({1, 0}));
    CHECK(call(R"({"method":"torrent_get","arguments":{}})")["result"] ==
          "method name not recognized");
    CHECK(call("{not json")["result"] == "no method name");
    // Unparsable, but naming the jsonrpc member that no legacy request has: JSON-RPC, as 4.1.
    CHECK(call(R"({"jsonrpc":"2.0","method":)")["error"]["code"] == -32700);
    CHECK(call(R"({"method":"torrent-remove","arguments":{"ids":[1]}})")["result"] ==
          "state.db: disk full");
}
