// JsonText against nlohmann's dump (the text every other answer is made of), and torrent.list's
// text against torrent.get's JSON tree for the same torrent.
#include "rpc/json_text.h"
#include "rpc/methods/torrent_fields.h"

#include <cmath>
#include <doctest/doctest.h>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>

using namespace seedbox::rpc;
using nlohmann::json;

namespace {

std::string ours(std::string const& s)
{
    std::string out;
    JsonText(out).string(s);
    return out;
}

std::string theirs(std::string const& s)
{
    return json(s).dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string theirs_dump(json const& j)
{
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace

TEST_CASE("JsonText writes strings byte for byte as nlohmann does, invalid UTF-8 included")
{
    std::vector<std::string> const cases = {"",
                                            "plain",
                                            "quote\" backslash\\ slash/",
                                            std::string("nul\0in", 6),
                                            "\b\f\n\r\t\x01\x1f",
                                            "\x7f",
                                            "caf\xc3\xa9",
                                            "\xe2\x82\xac euro",
                                            "\xf0\x9f\x8c\x8d globe",
                                            "\xc0\x80",
                                            "\xe0\x80\x80",
                                            "\xed\xa0\x80 surrogate",
                                            "\xf4\x90\x80\x80 too high",
                                            "\xf5",
                                            "\xff\xfe",
                                            "\x80 lone continuation",
                                            "truncated \xe2\x82",
                                            "truncated \xf0\x9f\x8c",
                                            "\xe2\x82x broken",
                                            "\xc3\xc3\xa9"};
    for (auto const& s : cases) {
        CAPTURE(s);
        CHECK(ours(s) == theirs(s));
    }
    // Random bytes, most of them high: every way a sequence can break.
    std::mt19937 rng(15);
    std::uniform_int_distribution<int> len(0, 12), byte(0, 255), kind(0, 3);
    for (int i = 0; i < 20000; ++i) {
        std::string s;
        for (int n = len(rng); n > 0; --n) {
            auto b = byte(rng);
            s += static_cast<char>(kind(rng) == 0 ? b & 0x7f : b | 0x80);
        }
        CAPTURE(s);
        REQUIRE(ours(s) == theirs(s));
    }
}

TEST_CASE("JsonText numbers: integers as nlohmann writes them, doubles read back exactly")
{
    for (std::int64_t v :
         {std::int64_t{0}, std::int64_t{-1}, std::int64_t{42},
          std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()}) {
        std::string out;
        JsonText(out).integer(v);
        CHECK(out == json(v).dump());
    }
    for (double v : {0.0, 1.0, -2.5, 0.1, 1.0 / 3, 1e-7, 1e300, 123456789012345678.0,
                     static_cast<double>(0.3f), -0.0}) {
        std::string out;
        JsonText(out).number(v);
        CAPTURE(out);
        auto const back = json::parse(out);
        CHECK(back.is_number_float()); // 1.0 stays a double, not the integer 1
        CHECK(back.get<double>() == v);
    }
    for (double v : {std::nan(""), std::numeric_limits<double>::infinity()}) {
        std::string out;
        JsonText(out).number(v);
        CHECK(out == "null");
    }
}

TEST_CASE("a torrent written as text is the JSON object torrent_json builds, every field")
{
    seedbox::daemon::TorrentView t;
    t.id = std::string(40, 'a');
    t.number = 7;
    t.name = "na\"me \xff with \xe2\x82\xac";
    t.state = seedbox::daemon::TorrentState::seeding;
    t.progress = 0.25;
    t.ratio = 1.0;
    t.total_size = 1LL << 40;
    t.labels = {"tv", "l\\b"};
    t.eta = -1;
    t.paused = true;
    t.error = "disk\nfull";
    std::vector<TorrentField const*> all;
    for (auto const& f : torrent_fields())
        all.push_back(&f);
    std::string text;
    JsonText out(text);
    write_torrent(out, t, all);
    auto const parsed = json::parse(text);
    auto const tree = json::parse(theirs_dump(torrent_json(t, all))); // as the dispatcher sends it
    CHECK(parsed == tree);
    CHECK(parsed.size() == torrent_fields().size());
    CHECK(parsed["state"] == "seeding");
    CHECK(parsed["ratio"].is_number_float());
    // Only the fields asked for, in that order.
    auto two = resolve_torrent_fields({"name", "id"});
    text.clear();
    write_torrent(out, t, two);
    CHECK(text.rfind("{\"name\":", 0) == 0);
    CHECK(json::parse(text).size() == 2);
}
