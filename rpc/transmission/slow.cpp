// The Transmission methods that may block, and where they run: a request that calls one runs on
// the slow pool (Context::offload), never on an RPC worker. torrent-add's `filename` as a URL
// (fetched with torrent.add's rules) or as a path on the server (confined to the allowed roots);
// blocklist-update (fetch blocklist-url, read the blocklists folder); torrent-rename-path (waits
// for libtorrent's disk thread).
#include "daemon/base/paths.h"
#include "rpc/fetch.h"
#include "rpc/transmission/internal.h"

#include <future>

namespace seedbox::rpc::transmission {

namespace {

// Fetches `url` with torrent.add's policy and waits for it (the slow pool only).
Fetched fetch_waiting(Context& ctx, std::string const& url, std::size_t max_bytes)
{
    auto const& cfg = ctx.config.torrent;
    if (!ctx.net)
        throw Failure("no network executor", Code::internal_error);
    FetchPolicy policy;
    policy.max_bytes = max_bytes;
    policy.timeout = std::chrono::seconds(cfg.url_timeout);
    policy.allow_private = cfg.url_allow_private;
    std::promise<daemon::Result<Fetched>> promise;
    auto got = promise.get_future();
    fetch_url(*ctx.net, url, policy,
              [&promise](daemon::Result<Fetched> r) { promise.set_value(std::move(r)); });
    auto fetched = got.get(); // fetch_url answers by its deadline at the latest
    if (!fetched)
        throw Failure(fetched.error().message, Code::http_error);
    return std::move(fetched.value());
}

bool is_url(std::string const& s)
{
    return s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0;
}

// The legacy name of a request's method ("" when it has none).
std::string method_of(json const& req)
{
    if (!req.is_object() || !req.contains("method") || !req["method"].is_string())
        return {};
    auto name = req["method"].get<std::string>();
    if (req.contains("jsonrpc"))
        if (auto legacy = legacy_name(name, false))
            return std::string(*legacy);
    return name;
}

bool slow_call(json const& req)
{
    auto const method = method_of(req);
    if (method == "torrent-rename-path" || method == "blocklist-update")
        return true;
    if (method != "torrent-add")
        return false;
    auto const& args = req.contains("params") ? req["params"] : req.value("arguments", json());
    if (!args.is_object() || !args.contains("filename") || !args["filename"].is_string())
        return false;
    return args["filename"].get<std::string>().rfind("magnet:", 0) != 0;
}

} // namespace

std::string fetch_torrent_file(Context& ctx, std::string const& filename)
{
    auto const& cfg = ctx.config.torrent;
    auto const max = static_cast<std::size_t>(cfg.max_metainfo_bytes);
    if (is_url(filename)) {
        if (!cfg.url_add)
            throw Failure("adding from URLs is disabled (torrent.url_add)", Code::http_error);
        auto fetched = fetch_waiting(ctx, filename, max);
        if (!fetched.magnet.empty())
            return fetched.magnet; // a redirect to a magnet link
        return std::move(fetched.body);
    }
    auto data =
        daemon::read_confined_file(filename, {cfg.default_save_path, cfg.allowed_roots}, max);
    if (!data)
        throw Failure(filename + ": " + data.error().message, Code::system_error);
    if (data->size() > max)
        throw Failure(filename + " is larger than torrent.max_metainfo_bytes",
                      Code::corrupt_torrent);
    return std::move(data.value());
}

json blocklist_update(Context& ctx, json const&)
{
    auto const settings = ctx.engine.session_settings();
    auto it = settings.find("blocklist_url");
    auto const url = it != settings.end() && std::holds_alternative<std::string>(it->second)
                         ? std::get<std::string>(it->second)
                         : std::string();
    auto info = url.empty() ? value_of(ctx.engine.reload_blocklist())
                            : value_of(ctx.engine.store_blocklist(
                                  fetch_waiting(ctx, url, daemon::kBlocklistFileBytes).body));
    return {{"blocklist-size", info.rules}};
}

bool wants_slow_pool(json const& request)
{
    if (!request.is_array())
        return slow_call(request);
    for (auto const& r : request)
        if (slow_call(r))
            return true;
    return false;
}

void respond_async(Context& ctx, std::string body, Answer done)
{
    bool slow = false;
    if (ctx.offload && too_big(ctx, body).empty()) {
        auto const req = json::parse(body, nullptr, false);
        slow = !req.is_discarded() && wants_slow_pool(req);
    }
    if (!slow)
        return done(respond(ctx, body));
    auto job = [&ctx, body, done] { done(respond(ctx, body)); };
    if (!ctx.offload(std::move(job)))
        done(legacy_answer("busy: too many slow calls are waiting; try again", json::object(),
                           nullptr));
}

} // namespace seedbox::rpc::transmission
