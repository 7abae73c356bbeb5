// Fuzz target: Transmission's RPC (rpc/transmission/transmission.h) on the request body of a client
// that passed the HTTP gate (Basic auth and the session id are rpc/transmission_gate.h's). Either
// the bytes are the whole body, or the input picks one of the legacy methods and supplies its
// arguments, sent in the legacy form {method, arguments, tag}, in 4.1's JSON-RPC form (as a call
// or a notification), or as a JSON-RPC batch of two. The engine is the unit tests' fake
// (tests/unit/fake_engine.h) holding three torrents, so torrent-get, torrent-set and the other
// torrent methods reach it; the context has no network executor and no slow pool (nothing
// blocks), and the configuration its defaults, with download folders that do not exist (nothing is
// read from disk).
// Checks beyond "no crash": respond() never throws and never answers with an empty body; no answer
// only for JSON-RPC (notifications); every answer is JSON, in the form of its request: legacy
// {result: string, arguments: object, tag: the integer sent}, or JSON-RPC 2.0 objects (a non-empty
// array for a batch) each with exactly one of result and error, an id, and an error's integer
// code and message; a call with an id is answered with that id; no answer is an internal error
// (an exception a handler let through).
#include "config/settings.h"
#include "rpc/transmission/internal.h"
#include "rpc/transmission/transmission.h"
#include "tests/fuzz/fuzz.h"
#include "tests/unit/fake_engine.h"

#include <fuzzer/FuzzedDataProvider.h>
#include <spdlog/spdlog.h>

#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

namespace {

using namespace seedbox;
using nlohmann::json;
namespace tr = seedbox::rpc::transmission;

constexpr char const* kLogged = "internal error (the daemon logged it)";
constexpr char const* kNowhere = "/nonexistent/seedboxd-fuzz/downloads";

enum class Form { raw, legacy, call, batch };

config::Config const& fuzz_config()
{
    static config::Config const cfg = [] {
        config::Config c;
        c.torrent.default_save_path = kNowhere;
        c.torrent.allowed_roots = {kNowhere};
        return c;
    }();
    return cfg;
}

// Three torrents: one downloading, one seeding with settings of its own, a magnet without
// metadata; torrent 4 was removed a moment ago.
test::FakeEngine engine()
{
    auto one = test::fake_torrent(1, "0123456789abcdef0123456789abcdef01234567", "one");
    auto two = test::fake_torrent(2, "89abcdef0123456789abcdef0123456789abcdef", "two");
    two.state = daemon::TorrentState::seeding;
    two.progress = 1;
    two.labels = {"tv", "hd"};
    two.upload_limit = 50000;
    two.ratio_limit = 2;
    two.sequential = true;
    auto three = test::fake_torrent(3, std::string(64, 'e'), "magnet");
    three.state = daemon::TorrentState::stopped;
    three.has_metadata = false;
    three.total_size = 0;
    three.paused = true;
    test::FakeEngine e({one, two, three});
    e.removed = {4};
    e.settings = {{"dht", true},
                  {"encryption", std::string("enabled")},
                  {"download_rate_limit", std::int64_t{100000}},
                  {"active_downloads", std::int64_t{3}},
                  {"ratio_limit", 2.0},
                  {"blocklist_url", std::string()}};
    return e;
}

// Every legacy method name.
std::vector<std::string> const& methods()
{
    static std::vector<std::string> const names = [] {
        std::vector<std::string> out;
        for (auto const* table : {&tr::session_methods(), &tr::torrent_methods()})
            for (auto const& m : *table)
                out.emplace_back(m.name);
        return out;
    }();
    return names;
}

// The body of a request the input describes, and whether it carries an id / a tag.
struct Request {
    Form form = Form::raw;
    bool notification = false;
    std::string body;
};

Request make_request(FuzzedDataProvider& in)
{
    Request r;
    auto const mode = in.ConsumeIntegral<std::uint8_t>();
    r.form = static_cast<Form>(mode & 3);
    if (r.form == Form::raw) {
        r.body = in.ConsumeRemainingBytesAsString();
        return r;
    }
    r.notification = (mode & 4) != 0;
    auto const& legacy = methods()[in.ConsumeIntegralInRange<std::size_t>(0, methods().size() - 1)];
    auto const text = in.ConsumeRemainingBytesAsString();
    json args = json::parse(text, nullptr, false);
    if (args.is_discarded())
        args = text; // arguments of the wrong type
    json req;
    if (r.form == Form::legacy) {
        req = {{"method", legacy}, {"arguments", args}, {"tag", 7}};
    } else {
        req = {{"jsonrpc", "2.0"}, {"method", std::string(tr::current_name(legacy))}};
        req["params"] = args;
        if (!r.notification)
            req["id"] = 1;
        if (r.form == Form::batch)
            req = json::array({req, {{"jsonrpc", "2.0"}, {"method", "session_stats"}, {"id", 2}}});
    }
    if (mode & 8) // no arguments at all
        for (auto* one : req.is_array() ? std::vector<json*>{&req[0]} : std::vector<json*>{&req})
            one->erase(r.form == Form::legacy ? "arguments" : "params");
    r.body = req.dump(-1, ' ', false, json::error_handler_t::replace);
    return r;
}

void check_legacy(json const& a, Request const& r)
{
    FUZZ_CHECK(a.is_object() && a.contains("result") && a["result"].is_string());
    FUZZ_CHECK(a.contains("arguments") && a["arguments"].is_object());
    FUZZ_CHECK(a["result"] != kLogged);
    FUZZ_CHECK(!a.contains("tag") || a["tag"].is_number_integer());
    if (r.form == Form::legacy && a["result"] == "success")
        FUZZ_CHECK(a.value("tag", json()) == 7);
    if (a["result"] != "success")
        FUZZ_CHECK(!a["result"].get<std::string>().empty());
}

void check_jsonrpc_one(json const& a)
{
    FUZZ_CHECK(a.is_object() && a.contains("jsonrpc") && a["jsonrpc"] == "2.0");
    FUZZ_CHECK(a.contains("result") != a.contains("error"));
    FUZZ_CHECK(a.contains("id"));
    if (!a.contains("error"))
        return;
    auto const& e = a["error"];
    FUZZ_CHECK(e.is_object() && e.contains("code") && e["code"].is_number_integer());
    FUZZ_CHECK(e.contains("message") && e["message"].is_string() && e["message"] != "");
    json detail;
    if (e.contains("data")) {
        FUZZ_CHECK(e["data"].is_object() && e["data"].contains("error_string"));
        detail = e["data"]["error_string"];
        FUZZ_CHECK(detail.is_string());
    }
    FUZZ_CHECK(detail != kLogged);
    // -32603 only with its reason (no network executor here); bare, it is an escaped exception.
    FUZZ_CHECK(e["code"] != -32603 || detail.is_string());
}

void check_jsonrpc(json const& a, Request const& r)
{
    FUZZ_CHECK(!a.contains("tag"));
    if (a.is_array()) {
        FUZZ_CHECK(!a.empty());
        for (auto const& one : a)
            check_jsonrpc_one(one);
    } else {
        check_jsonrpc_one(a);
    }
    if (r.form == Form::call && a.is_object() && a.contains("result"))
        FUZZ_CHECK(a["id"] == 1);
    if (r.form == Form::batch && a.is_array())
        FUZZ_CHECK(a.back()["id"] == 2 && a.back().contains("result"));
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    spdlog::set_level(spdlog::level::off);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size)
{
    FuzzedDataProvider in(data, size);
    auto const r = make_request(in);
    static std::string const token = "0123456789abcdef0123";
    auto fake = engine();
    rpc::Context ctx{fake, fuzz_config(), token, 0, nullptr, {}, nullptr};
    std::optional<std::string> answer;
    try {
        answer = tr::respond(ctx, r.body);
    } catch (std::exception const& e) {
        std::fprintf(stderr, "transmission_fuzz: respond() threw: %s\n", e.what());
        fuzz::fail("respond() threw");
    }
    if (!answer) { // nothing to answer: JSON-RPC notifications only
        FUZZ_CHECK(r.form != Form::legacy);
        FUZZ_CHECK(r.form == Form::raw || r.notification);
        return 0;
    }
    FUZZ_CHECK(!answer->empty());
    json const a = json::parse(*answer, nullptr, false);
    FUZZ_CHECK(!a.is_discarded());
    bool const legacy = a.is_object() && !a.contains("jsonrpc");
    if (r.form == Form::legacy && !legacy) // arguments naming "jsonrpc", refused before parsing
        FUZZ_CHECK(a.is_object() && a.contains("error") && a["id"].is_null());
    else if (r.form != Form::raw && r.form != Form::legacy)
        FUZZ_CHECK(!legacy);
    if (legacy)
        check_legacy(a, r);
    else
        check_jsonrpc(a, r);
    if (r.form == Form::call && r.notification) // a notification answered: refused before parsing
        FUZZ_CHECK(a.contains("error") && a["id"].is_null());
    return 0;
}
