// session.*: statistics and global settings.
#include "daemon/torrent/engine.h"
#include "rpc/method.h"

namespace seedbox::rpc {

void add_session_methods(MethodTable& t)
{
    t.push_back(
        {.name = "session.stats",
         .summary = "Session-wide rates, totals since start, torrents by state, peers, disk.",
         .mutates = false,
         .params = {},
         .result = {{"type", "object"}},
         .handler = [](Call& c) { return c.engine().session_stats(); }});
    t.push_back({.name = "session.settings",
                 .summary = "Current global settings.",
                 .mutates = false,
                 .params = {},
                 .result = {{"type", "object"}},
                 .handler = [](Call& c) { return c.engine().session_settings(); }});

    // Params come from the engine's own key table, so the two cannot drift.
    std::vector<Param> params;
    for (auto const& k : daemon::Engine::session_setting_keys()) {
        std::string const type = k.type;
        Param p{k.name,
                type == "boolean"   ? Type::boolean
                : type == "integer" ? Type::integer
                                    : Type::string,
                false, k.help};
        if (type == "integer")
            p = std::move(p).range(k.min, k.max);
        if (!k.choices.empty())
            p = std::move(p).one_of(k.choices);
        params.push_back(std::move(p));
    }
    t.push_back({.name = "session.set_settings",
                 .summary = "Change global settings; they apply at once and persist in state.db.",
                 .mutates = true,
                 .params = std::move(params),
                 .result = {{"type", "object"}},
                 .handler = [](Call& c) {
                     if (c.params().empty())
                         throw RpcError(Err::invalid_params,
                                        "Invalid params: give at least one setting");
                     unwrap(c.engine().set_session_settings(c.params()));
                     return c.engine().session_settings();
                 }});
}

} // namespace seedbox::rpc
