// session.*: statistics and global settings.
#include "daemon/torrent/engine.h"
#include "rpc/method.h"
#include "rpc/schema.h"

namespace seedbox::rpc {

namespace {

json stats_schema()
{
    using namespace schema;
    auto const by_class =
        object({{"free", integer()}, {"paid", integer()}, {"over_credit_line", integer()}});
    return object({{"download_rate", integer()},
                   {"upload_rate", integer()},
                   {"downloaded", integer()},
                   {"uploaded", integer()},
                   {"torrents", integer()},
                   {"torrents_by_state", map(integer())},
                   {"peers", integer()},
                   {"dht_nodes", integer()},
                   {"disk_queued_jobs", integer()},
                   {"disk_blocks_read", integer()},
                   {"disk_blocks_written", integer()},
                   {"alerts_handled", integer()},
                   {"alerts_dropped", integer()},
                   {"alerts_last_batch", integer()},
                   {"alert_queue_size", integer()},
                   {"listen_port", integer()},
                   {"listening", array(string())},
                   {"uptime", integer()},
                   {"blocklist_rules", integer()},
                   {"bans", integer()},
                   {"peers_blocked", integer()}},
                  // With payments: payment classes (btt_pay).
                  {{"payments", object({{"peers_by_class", by_class},
                                        {"uploaded_by_class", by_class},
                                        {"upload_by_bid", boolean()}})}});
}

json stats_json(daemon::SessionStats const& s)
{
    json j = {{"download_rate", s.download_rate},
              {"upload_rate", s.upload_rate},
              {"downloaded", s.downloaded},
              {"uploaded", s.uploaded},
              {"torrents", s.torrents},
              {"torrents_by_state", s.torrents_by_state},
              {"peers", s.peers},
              {"dht_nodes", s.dht_nodes},
              {"disk_queued_jobs", s.disk_queued_jobs},
              {"disk_blocks_read", s.disk_blocks_read},
              {"disk_blocks_written", s.disk_blocks_written},
              {"alerts_handled", s.alerts_handled},
              {"alerts_dropped", s.alerts_dropped},
              {"alerts_last_batch", s.alerts_last_batch},
              {"alert_queue_size", s.alert_queue_size},
              {"listen_port", s.listen_port},
              {"listening", s.listening},
              {"uptime", s.uptime},
              {"blocklist_rules", s.blocklist_rules},
              {"bans", s.bans},
              {"peers_blocked", s.peers_blocked}};
    if (auto const& p = s.payments)
        j["payments"] = {{"uploaded_by_class", p->uploaded_by_class},
                         {"peers_by_class", p->peers_by_class},
                         {"upload_by_bid", p->upload_by_bid}};
    return j;
}

json settings_json(daemon::SessionSettings const& settings)
{
    json out = json::object();
    for (auto const& [key, value] : settings)
        std::visit([&out, &key = key](auto const& v) { out[key] = v; }, value);
    return out;
}

// session.set_settings' params, which the dispatcher checked against each key's type.
daemon::SessionSettings settings_of(json const& params)
{
    daemon::SessionSettings out;
    for (auto const& [key, v] : params.items()) {
        if (v.is_boolean())
            out[key] = v.get<bool>();
        else if (v.is_number_integer())
            out[key] = v.get<std::int64_t>();
        else if (v.is_number())
            out[key] = v.get<double>();
        else
            out[key] = v.get<std::string>();
    }
    return out;
}

// Every session setting, typed as its key.
json settings_schema()
{
    json props = json::object();
    json names = json::array();
    for (auto const& k : daemon::Engine::session_setting_keys()) {
        props[k.name] = schema::type(k.type.c_str());
        names.push_back(k.name);
    }
    return {{"type", "object"}, {"properties", props}, {"required", names}};
}

} // namespace

void add_session_methods(MethodTable& t)
{
    t.push_back(
        {.name = "session.stats",
         .summary = "Session-wide rates, totals since start, torrents by state, peers, disk.",
         .mutates = false,
         .params = {},
         .result = stats_schema(),
         .handler = [](Call& c) { return stats_json(c.engine().session_stats()); }});
    t.push_back({.name = "session.settings",
                 .summary = "Current global settings.",
                 .mutates = false,
                 .params = {},
                 .result = settings_schema(),
                 .handler = [](Call& c) { return settings_json(c.engine().session_settings()); }});

    // Params come from the engine's own key table, so the two cannot drift.
    std::vector<Param> params;
    for (auto const& k : daemon::Engine::session_setting_keys()) {
        std::string const type = k.type;
        Param p{k.name,
                type == "boolean"   ? Type::boolean
                : type == "integer" ? Type::integer
                : type == "number"  ? Type::number
                                    : Type::string,
                false, k.help};
        if (type == "integer" || type == "number")
            p = std::move(p).range(k.min, k.max);
        if (!k.choices.empty())
            p = std::move(p).one_of(k.choices);
        params.push_back(std::move(p));
    }
    t.push_back({.name = "session.set_settings",
                 .summary = "Change global settings; they apply at once and persist in state.db.",
                 .mutates = true,
                 .params = std::move(params),
                 .result = settings_schema(),
                 .handler = [](Call& c) {
                     if (c.params().empty())
                         throw RpcError(Err::invalid_params,
                                        "Invalid params: give at least one setting");
                     unwrap(c.engine().set_session_settings(settings_of(c.params())));
                     return settings_json(c.engine().session_settings());
                 }});
}

} // namespace seedbox::rpc
