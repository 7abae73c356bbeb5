#include "rpc/methods/torrent_add.h"

#include "config/settings.h"
#include "daemon/base/paths.h"
#include "daemon/torrent/torrents.h"
#include "rpc/base64.h"
#include "rpc/fetch.h"

namespace seedbox::rpc {

namespace {

RpcError invalid(std::string const& msg)
{
    return {Err::invalid_params, msg};
}

// Adds `req` and answers once it is committed to state.db; the worker does not wait for the
// commit, so the adds of a batch share one.
void add_then_answer(daemon::Torrents& engine, Reply const& reply, daemon::AddRequest const& req)
{
    engine.add_async(req, [reply](daemon::Result<daemon::AddResult> added) {
        reply.answer([&] {
            auto a = unwrap(std::move(added));
            return json{{"id", a.id}, {"name", a.name}, {"added", a.added}};
        });
    });
}

// Finishes a deferred add once its bytes are in: the add goes back to the RPC workers (quick),
// never behind slow jobs.
void add_later(Context& ctx, Reply const& reply, daemon::AddRequest req)
{
    auto job = [reply, &engine = ctx.engine, req = std::move(req)] {
        add_then_answer(engine, reply, req);
    };
    if (ctx.quick)
        return ctx.quick(std::move(job));
    if (!ctx.offload(std::move(job)))
        reply.error({Err::busy, "Busy: too many slow calls are waiting; try again"});
}

// torrent.add {path}: the file is read on the slow pool (regular files inside the roots only).
void add_from_path(Call& call, daemon::AddRequest req)
{
    auto const& cfg = call.ctx().config.torrent;
    auto job = [reply = call.defer(), &ctx = call.ctx(), req = std::move(req),
                path = call.arg<std::string>("path"),
                rules = daemon::PathRules{cfg.default_save_path, cfg.allowed_roots},
                max = static_cast<std::size_t>(cfg.max_metainfo_bytes)]() mutable {
        auto data = daemon::read_confined_file(path, rules, max);
        if (!data)
            return reply.error(
                data.error().code == daemon::Errc::path_not_allowed ||
                        data.error().code == daemon::Errc::file_not_found
                    ? to_rpc(data.error())
                    : RpcError(Err::invalid_metainfo, "path: " + data.error().message));
        if (data->size() > max)
            return reply.error({Err::invalid_metainfo,
                                "path: " + path + " is larger than torrent.max_metainfo_bytes"});
        req.metainfo = std::move(data.value());
        add_later(ctx, reply, std::move(req));
    };
    if (!call.ctx().offload(std::move(job)))
        throw RpcError(Err::busy, "Busy: too many slow calls are waiting; try again");
}

// torrent.add {url}: fetched asynchronously on the io thread (SSRF checks, one deadline).
void add_from_url(Call& call, daemon::AddRequest req)
{
    auto const& cfg = call.ctx().config.torrent;
    if (!cfg.url_add)
        throw RpcError(Err::url_add_disabled, "adding from URLs is disabled (torrent.url_add)");
    if (!call.ctx().net)
        throw RpcError(Err::internal_error, "no network executor");
    FetchPolicy policy;
    policy.max_bytes = static_cast<std::size_t>(cfg.max_metainfo_bytes);
    policy.timeout = std::chrono::seconds(cfg.url_timeout);
    policy.allow_private = cfg.url_allow_private;
    fetch_url(*call.ctx().net, call.arg<std::string>("url"), policy,
              [reply = call.defer(), &ctx = call.ctx(),
               req = std::move(req)](daemon::Result<Fetched> fetched) mutable {
                  if (!fetched)
                      return reply.error(to_rpc(fetched.error()));
                  req.metainfo = std::move(fetched->body);
                  req.magnet = std::move(fetched->magnet);
                  add_later(ctx, reply, std::move(req));
              });
}

} // namespace

json torrent_add(Call& call)
{
    int sources = call.has("metainfo") + call.has("magnet") + call.has("url") + call.has("path");
    if (sources != 1)
        throw invalid("Invalid params: give exactly one of metainfo, magnet, url or path");
    daemon::AddRequest req;
    req.save_path = call.arg<std::string>("save_path");
    req.paused = call.arg<bool>("paused");
    req.seed_mode = call.arg<bool>("seed_mode");
    req.labels = call.arg<std::vector<std::string>>("labels");
    if (call.has("path")) { // these answer later (Call::defer)
        add_from_path(call, std::move(req));
        return {};
    }
    if (call.has("url")) {
        add_from_url(call, std::move(req));
        return {};
    }
    if (call.has("magnet")) {
        req.magnet = call.arg<std::string>("magnet");
        add_then_answer(call.engine(), call.defer(), req);
        return {};
    }
    auto const& b64 = call.params()["metainfo"].get_ref<std::string const&>();
    auto const max = static_cast<std::size_t>(call.ctx().config.torrent.max_metainfo_bytes);
    if (b64.size() > max / 3 * 4 + 8)
        throw RpcError(Err::invalid_metainfo, "metainfo: larger than torrent.max_metainfo_bytes");
    if (!base64_decode(b64, req.metainfo))
        throw RpcError(Err::invalid_base64,
                       "metainfo: not valid base64 (standard alphabet, '=' padding only at the "
                       "end, no whitespace: base64 -w0)");
    add_then_answer(call.engine(), call.defer(), req);
    return {};
}

} // namespace seedbox::rpc
