#include "config/settings.h"
#include "daemon/torrent/engine.h"

#include <algorithm>
#include <doctest/doctest.h>
#include <filesystem>
#include <set>

using namespace seedbox::config;

TEST_CASE("defaults are secure and resolve from state_dir")
{
    auto r = load({});
    REQUIRE(r.config);
    CHECK(r.config->rpc.bind == "127.0.0.1:9180");
    CHECK_FALSE(r.config->bt.dht);
    CHECK(r.config->bt.listen_interfaces == "0.0.0.0:51413,[::]:51413");
    // Relative config paths are taken from the working directory, once, at load.
    auto const cwd = std::filesystem::current_path().string();
    CHECK(r.config->state_dir == cwd + "/var");
    CHECK(r.config->rpc.token_file == cwd + "/var/rpc.token");
    CHECK(r.config->torrent.default_save_path == cwd + "/var/downloads");
    CHECK(r.config->torrent.allowed_roots == std::vector<std::string>{cwd + "/var/downloads"});
}

TEST_CASE("printed config fed back derives its derived paths again from a new state_dir")
{
    auto first = load({});
    REQUIRE(first.config);
    auto printed = to_json(*first.config);
    CHECK(printed["rpc"]["token_file"] == "");
    CHECK(printed["torrent"]["default_save_path"] == "");
    CHECK(printed["torrent"]["allowed_roots"] == nlohmann::json::array());
    Config again;
    REQUIRE(apply_json(again, printed.dump(), "printed").empty());
    again.state_dir = "/srv/other";
    again.resolve();
    CHECK(again.rpc.token_file == "/srv/other/rpc.token");
    CHECK(again.torrent.allowed_roots == std::vector<std::string>{"/srv/other/downloads"});
    // A value the operator set is printed as set.
    Config set;
    set.tron.key_file = "/keys/tron.key";
    set.resolve();
    CHECK(to_json(set)["tron"]["key_file"] == "/keys/tron.key");
}

TEST_CASE("file, env and flags override in that order")
{
    Sources s;
    Config c;
    CHECK(apply_json(c, R"({
        // comments are allowed
        "rpc": {"bind": "127.0.0.1:1000", "max_batch": 7},
        "bt": {"dht": true}
    })",
                     "test")
              .empty());
    CHECK(c.rpc.bind == "127.0.0.1:1000");
    CHECK(c.rpc.max_batch == 7);
    CHECK(c.bt.dht);
    CHECK(apply_string(c, "rpc.bind", "[::1]:0", "flag").empty());
    CHECK(c.rpc.bind == "[::1]:0");
    CHECK(apply_string(c, "torrent.allowed_roots", "/a,/b", "env").empty());
    CHECK(c.torrent.allowed_roots == std::vector<std::string>{"/a", "/b"});
    CHECK(apply_string(c, "torrent.allowed_roots", R"(["/x"])", "env").empty());
    CHECK(c.torrent.allowed_roots == std::vector<std::string>{"/x"});
}

TEST_CASE("unknown keys and bad values name the key and change nothing")
{
    Config c;
    auto err = apply_json(c, R"({"rpc": {"bnid": "x"}})", "f.json");
    CHECK(err.find("rpc.bnid") != std::string::npos);
    err = apply_json(c, R"({"rpc": {"max_connections": "many"}})", "f.json");
    CHECK(err.find("rpc.max_connections") != std::string::npos);
    CHECK(c.rpc.max_connections == 64);
    err = apply_json(c, R"({"rpc": {"max_connections": 0}})", "f.json");
    CHECK(err.find("between") != std::string::npos);
    err = apply_string(c, "bt.encryption", "sometimes", "env");
    CHECK(err.find("bt.encryption") != std::string::npos);
    err = apply_string(c, "rpc.bind", "nonsense", "flag");
    CHECK(err.find("HOST:PORT") != std::string::npos);
    err = apply_string(c, "bt.dht", "maybe", "flag");
    CHECK(err.find("bt.dht") != std::string::npos);
    CHECK(apply_json(c, "[1]", "f").find("object") != std::string::npos);
    CHECK(apply_json(c, "{", "f").find("not valid JSON") != std::string::npos);
}

TEST_CASE("environment variables map to keys and unknown ones are refused")
{
    CHECK(env_name("rpc.max_body_bytes") == "SEEDBOXD_RPC_MAX_BODY_BYTES");
    Sources s;
    s.env = {{"SEEDBOXD_RPC_MAX_BATCH", "3"}};
    auto r = load(s);
    REQUIRE(r.config);
    CHECK(r.config->rpc.max_batch == 3);
    s.env = {{"SEEDBOXD_NOPE", "1"}};
    CHECK(load(s).error.find("SEEDBOXD_NOPE") != std::string::npos);
}

TEST_CASE("print-config has the file's shape and hides secrets")
{
    Config c;
    c.rpc.token = "supersecretsupersecret";
    c.resolve();
    auto j = to_json(c);
    CHECK(j["rpc"]["bind"] == "127.0.0.1:9180");
    CHECK(j["rpc"]["token"] == "<redacted>");
    CHECK(j.dump().find("supersecret") == std::string::npos);
    Config back;
    j["rpc"].erase("token");
    CHECK(apply_json(back, j.dump(), "roundtrip").empty());
    back.resolve();
    CHECK(back.rpc.token_file == c.rpc.token_file);
}

TEST_CASE("endpoints")
{
    CHECK(parse_endpoint("127.0.0.1:0")->port == 0);
    CHECK(parse_endpoint("[::1]:9180")->host == "::1");
    CHECK_FALSE(parse_endpoint("::1:80"));
    CHECK_FALSE(parse_endpoint("host:99999"));
    CHECK_FALSE(parse_endpoint("host:"));
    CHECK_FALSE(parse_endpoint(":80"));
}

TEST_CASE("the BitTorrent session settings come from the config key table")
{
    using seedbox::config::Apply;
    std::set<std::string> from_config;
    for (auto const& k : seedbox::config::keys())
        if (k.apply == Apply::session) {
            CHECK(k.name.rfind("bt.", 0) == 0);
            from_config.insert(k.name.substr(3));
        }
    CHECK(from_config.count("upload_rate_limit") == 1);
    // session.settings has exactly those, with the same types, ranges and help, and listen_port.
    std::set<std::string> from_engine;
    for (auto const& s : seedbox::daemon::Engine::session_setting_keys()) {
        from_engine.insert(s.name);
        if (s.name == "listen_port")
            continue;
        auto const keys = seedbox::config::keys();
        auto k = std::find_if(keys.begin(), keys.end(),
                              [&](auto const& k) { return k.name == "bt." + s.name; });
        REQUIRE(k != keys.end());
        CHECK(s.type == k->type);
        CHECK(s.help == k->help);
        CHECK(s.min == k->min.value_or(0));
        CHECK(s.max == k->max.value_or(0));
        CHECK(s.choices == k->choices);
    }
    from_config.insert("listen_port");
    CHECK(from_engine == from_config);
}

TEST_CASE("a session setting's value is checked the same from the file and over RPC")
{
    // Both refuse what libtorrent cannot hold (its limits are ints) instead of clamping it.
    seedbox::config::Config c;
    CHECK(seedbox::config::set_value(c, "bt.upload_rate_limit", 2147483647).empty());
    CHECK(c.bt.upload_rate_limit == 2147483647);
    CHECK(seedbox::config::set_value(c, "bt.upload_rate_limit", 2147483648LL) ==
          "must be between 0 and 2147483647");
    CHECK(c.bt.upload_rate_limit == 2147483647);
    auto r = seedbox::config::load({std::nullopt, {}, {{"bt.upload_rate_limit", "1099511627776"}}});
    CHECK_FALSE(r.config);
    CHECK(r.error.find("bt.upload_rate_limit") != std::string::npos);
    CHECK(seedbox::config::set_value(c, "bt.encryption", "sometimes").find("must be one of") == 0);
    CHECK(seedbox::config::set_value(c, "bt.dht", 1) == "expected true or false");
    CHECK(seedbox::config::set_value(c, "bt.nope", 1) == "unknown key");
}
