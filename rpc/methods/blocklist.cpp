// blocklist.* and bans.*: the IP filter. The blocklist is every list in <state_dir>/blocklists
// (while the session setting `blocklist` is on); blocklist.update fetches `blocklist_url` into
// it, as torrent.add fetches URLs, and reads the folder again on the slow pool. The ban list is
// always on and kept in state.db.
#include "config/settings.h"
#include "daemon/torrent/torrents.h"
#include "rpc/fetch.h"
#include "rpc/method.h"
#include "rpc/schema.h"

namespace seedbox::rpc {

namespace {

json info_schema()
{
    using namespace schema;
    return object({{"enabled", boolean()},
                   {"dir", string()},
                   {"lists", integer()},
                   {"rules", integer()},
                   {"bad_lines", integer()},
                   {"problems", array(string())},
                   {"loaded_time", integer()},
                   {"bans", integer()},
                   {"peers_blocked", integer()}});
}

json info_json(daemon::BlocklistInfo const& b)
{
    return {{"enabled", b.enabled},
            {"dir", b.dir},
            {"lists", b.lists},
            {"rules", b.rules},
            {"bad_lines", b.bad_lines},
            {"problems", b.problems},
            {"loaded_time", b.loaded_time},
            {"bans", b.bans},
            {"peers_blocked", b.peers_blocked}};
}

// Reads the folder again on the slow pool and answers `reply` with the new figures.
void reload_later(Context& ctx, Reply const& reply, std::string fetched)
{
    auto job = [reply, &engine = ctx.engine, fetched = std::move(fetched)] {
        reply.answer([&] {
            return info_json(unwrap(fetched.empty() ? engine.reload_blocklist()
                                                    : engine.store_blocklist(fetched)));
        });
    };
    if (!ctx.offload(std::move(job)))
        reply.error({Err::busy, "Busy: too many slow calls are waiting; try again"});
}

json blocklist_update(Call& call)
{
    auto& ctx = call.ctx();
    auto const settings = call.engine().session_settings();
    auto it = settings.find("blocklist_url");
    auto const url = it != settings.end() && std::holds_alternative<std::string>(it->second)
                         ? std::get<std::string>(it->second)
                         : std::string();
    if (url.empty()) {
        reload_later(ctx, call.defer(), {});
        return {};
    }
    if (!ctx.net)
        throw RpcError(Err::internal_error, "no network executor");
    FetchPolicy policy;
    policy.max_bytes = daemon::kBlocklistFileBytes;
    policy.timeout = std::chrono::seconds(ctx.config.torrent.url_timeout);
    policy.allow_private = ctx.config.torrent.url_allow_private;
    fetch_url(*ctx.net, url, policy, [reply = call.defer(), &ctx](daemon::Result<Fetched> fetched) {
        if (!fetched)
            return reply.error(to_rpc(fetched.error()));
        if (fetched->body.empty())
            return reply.error(
                {Err::invalid_params, "blocklist_url gave no list (a magnet link?)"});
        reload_later(ctx, reply, std::move(fetched->body));
    });
    return {};
}

json bans_json(std::vector<std::string> const& bans)
{
    return {{"bans", bans}};
}

} // namespace

void add_blocklist_methods(MethodTable& t)
{
    using namespace schema;
    auto const bans_schema = object({{"bans", array(string())}});
    t.push_back({.name = "blocklist.status",
                 .summary = "The blocklist's lists, rules, problems and the peers it refused.",
                 .mutates = false,
                 .params = {},
                 .result = info_schema(),
                 .handler = [](Call& c) { return info_json(c.engine().blocklist()); }});
    t.push_back({.name = "blocklist.update",
                 .summary = "Fetch blocklist_url into the blocklists folder (if set), then read "
                            "every list there again.",
                 .mutates = true,
                 .params = {},
                 .result = info_schema(),
                 .handler = blocklist_update});
    t.push_back({.name = "bans.list",
                 .summary = "The ban list: addresses and CIDR ranges never connected.",
                 .mutates = false,
                 .params = {},
                 .result = bans_schema,
                 .handler = [](Call& c) { return bans_json(c.engine().bans()); }});
    t.push_back({.name = "bans.add",
                 .summary = "Ban addresses or CIDR ranges; connected peers in them are dropped.",
                 .mutates = true,
                 .params = {{"addresses", Type::string_array, true,
                             "e.g. [\"192.0.2.7\", "
                             "\"2001:db8::/32\"]"}},
                 .result = bans_schema,
                 .handler = [](Call& c) {
                     return bans_json(
                         unwrap(c.engine().ban(c.arg<std::vector<std::string>>("addresses"), {})));
                 }});
    t.push_back({.name = "bans.remove",
                 .summary = "Lift bans (entries as bans.list shows them).",
                 .mutates = true,
                 .params = {{"addresses", Type::string_array, true, "entries to remove"}},
                 .result = bans_schema,
                 .handler = [](Call& c) {
                     return bans_json(
                         unwrap(c.engine().ban({}, c.arg<std::vector<std::string>>("addresses"))));
                 }});
}

} // namespace seedbox::rpc
