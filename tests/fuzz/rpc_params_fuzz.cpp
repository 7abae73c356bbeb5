// JSON-RPC requests from a signed-in (or not) client, against every method in the daemon's real
// table: the envelope, batches, depth and size limits, and each method's declared params (types,
// ranges, allowed values, members, defaults). Either the raw bytes are the request body, or the
// input picks a method and supplies its params.
// The handlers are replaced by a probe, so the property checked is the dispatcher's promise to
// them: whatever reaches a handler fits its declaration (check_param passes for every present
// param, no undeclared param, every required param present, and Call::arg reads each as its
// declared type without throwing). And every answer is JSON-RPC: valid JSON, a result only when a
// handler ran, an error with an integer code and a message otherwise.
#include "config/settings.h"
#include "daemon/base/events.h"
#include "daemon/torrent/engine.h"
#include "ledger/state_store.h"
#include "rpc/dispatch.h"
#include "rpc/notification.h"
#include "tests/fuzz/fuzz.h"

#include <boost/asio/io_context.hpp>
#include <fuzzer/FuzzedDataProvider.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <unistd.h>

using namespace seedbox;
using namespace seedbox::rpc;
namespace fs = std::filesystem;

namespace {

struct FuzzConn final : Connection {
    bool ws = false, auth = true;
    bool websocket() const override { return ws; }
    bool authenticated() const override { return auth; }
    void set_authenticated() override { auth = true; }
    void subscribe(std::vector<std::string> const&, bool) override {}
    std::string remote_address() const override { return "127.0.0.1"; }
};

std::atomic<int> probes{0};

// Reads one declared param the way a handler would.
void read_as_declared(Call& c, Param const& p)
{
    switch (p.type) {
    case Type::string:
    case Type::base64:
        (void)c.arg<std::string>(p.name);
        break;
    case Type::integer:
        (void)c.arg<std::int64_t>(p.name);
        break;
    case Type::number:
        (void)c.arg<double>(p.name);
        break;
    case Type::boolean:
        (void)c.arg<bool>(p.name);
        break;
    case Type::string_array:
        (void)c.arg<std::vector<std::string>>(p.name);
        break;
    case Type::array:
    case Type::object:
    case Type::any:
        (void)c.arg<json>(p.name);
        break;
    }
}

json probe(Call& c, Method const& m)
{
    ++probes;
    auto const& params = c.params();
    FUZZ_CHECK(params.is_object() || params.is_null());
    if (params.is_object())
        for (auto const& [name, value] : params.items()) {
            auto p = std::find_if(m.params.begin(), m.params.end(),
                                  [&name = name](Param const& d) { return d.name == name; });
            FUZZ_CHECK(p != m.params.end()); // no undeclared param
            if (!value.is_null())
                FUZZ_CHECK(check_param(*p, value, name).empty());
        }
    for (auto const& p : m.params) {
        if (p.required)
            FUZZ_CHECK(c.has(p.name) && !c.params()[p.name].is_null());
        read_as_declared(c, p); // throws (and so crashes here) if a type slipped through
    }
    return json(nullptr);
}

struct Rig {
    fs::path dir = fs::temp_directory_path() / ("sbx-fuzz-rpc-" + std::to_string(::getpid()));
    boost::asio::io_context io;
    config::Config cfg;
    std::unique_ptr<ledger::StateStore> store;
    daemon::EventHub events{io, notification_text};
    std::unique_ptr<daemon::Engine> engine; // never started: the probes never reach it
    std::string token = "fuzz-token-0123456789abcdef";
    std::unique_ptr<Context> ctx;
    std::unique_ptr<Dispatcher> dispatcher;
    MethodTable real = build_method_table();

    Rig()
    {
        fs::create_directories(dir);
        cfg.state_dir = dir.string();
        cfg.resolve();
        std::string err;
        store = ledger::StateStore::open((dir / "state.db").string(), err);
        if (!store) {
            spdlog::critical("cannot open state.db: {}", err);
            std::abort();
        }
        engine = std::make_unique<daemon::Engine>(io, cfg, *store, events);
        ctx = std::make_unique<Context>(Context{*engine, cfg, token, 0, nullptr, {}, nullptr});
        MethodTable probed = real;
        for (auto& m : probed)
            m.handler = [this, name = m.name](Call& c) { return probe(c, declared(name)); };
        dispatcher =
            std::make_unique<Dispatcher>(std::move(probed), *ctx, Limits{8, 16, 1 << 20, 2});
        ctx->methods = &dispatcher->table();
    }
    Method const& declared(std::string const& name) const
    {
        return *std::find_if(real.begin(), real.end(),
                             [&](Method const& m) { return m.name == name; });
    }
    ~Rig()
    {
        dispatcher.reset();
        engine.reset();
        store.reset();
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
};

Rig* rig = nullptr;

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    spdlog::set_level(spdlog::level::off);
    static Rig r;
    rig = &r;
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size)
{
    FuzzedDataProvider in(data, size);
    auto const mode = in.ConsumeIntegral<std::uint8_t>();
    FuzzConn conn;
    conn.ws = mode & 2;
    conn.auth = !(mode & 4);
    std::string body;
    std::string method;
    if (mode & 1) { // the bytes are the whole body
        body = in.ConsumeRemainingBytesAsString();
    } else { // a call to one method of the table with fuzzed params
        auto const& table = rig->real;
        method = table[in.ConsumeIntegralInRange<std::size_t>(0, table.size() - 1)].name;
        auto text = in.ConsumeRemainingBytesAsString();
        json params = json::parse(text, nullptr, false);
        if (params.is_discarded())
            params = text;
        json request = {{"jsonrpc", "2.0"}, {"id", 1}, {"method", method}, {"params", params}};
        if (mode & 8)
            request.erase("params");
        body = request.dump(-1, ' ', false, json::error_handler_t::replace);
    }
    int const before = probes.load();
    auto answer = rig->dispatcher->handle(body, conn);
    bool const ran = probes.load() > before;
    if (!answer) // only notifications (no id) get no answer
        return 0;
    json a = json::parse(*answer, nullptr, false);
    FUZZ_CHECK(!a.is_discarded());
    auto one = [&](json const& r) {
        FUZZ_CHECK(r.is_object() && r.value("jsonrpc", "") == "2.0");
        FUZZ_CHECK(r.contains("result") != r.contains("error"));
        if (r.contains("error")) {
            FUZZ_CHECK(r["error"]["code"].is_number_integer());
            FUZZ_CHECK(r["error"]["message"].is_string() && !r["error"]["message"].empty());
        }
    };
    if (a.is_array()) {
        FUZZ_CHECK(!a.empty());
        for (auto const& r : a)
            one(r);
    } else {
        one(a);
        if (!method.empty()) // one call to a real method: a result exactly when its probe ran
            FUZZ_CHECK(a.contains("result") == ran);
    }
    return 0;
}
