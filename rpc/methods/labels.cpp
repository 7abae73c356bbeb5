// labels.*: labels with their policies (save path, move on complete, share limits), created and
// edited at run time (kept in state.db, winning over the config file's of the same name).
#include "config/settings.h"
#include "daemon/torrent/torrents.h"
#include "rpc/method.h"
#include "rpc/schema.h"

namespace seedbox::rpc {

namespace {

json label_schema()
{
    using namespace schema;
    return object({{"name", string()},
                   {"source", string()},
                   {"torrents", integer()},
                   {"save_path", string()},
                   {"move_on_complete", string()},
                   {"ratio_limit", number()},
                   {"seed_time_limit", integer()},
                   {"idle_limit", integer()},
                   {"limit_action", string()}});
}

json labels_json(std::vector<daemon::LabelInfo> const& labels)
{
    json out = json::array();
    for (auto const& l : labels) {
        json j = config::label_json(l.policy);
        j["name"] = l.name;
        j["source"] = l.source;
        j["torrents"] = l.torrents;
        out.push_back(std::move(j));
    }
    return {{"labels", std::move(out)}};
}

// labels.set: the label's current policy (or the defaults), with the params given changed.
json labels_set(Call& c)
{
    auto const name = c.arg<std::string>("name");
    config::LabelPolicy policy;
    for (auto const& l : c.engine().labels())
        if (l.name == name)
            policy = l.policy;
    json changes = c.params();
    changes.erase("name");
    if (auto why = config::parse_label(changes, policy, "label"); !why.empty())
        throw RpcError(Err::invalid_params, "Invalid params: " + why);
    unwrap(c.engine().set_label(name, policy));
    return labels_json(c.engine().labels());
}

} // namespace

void add_label_methods(MethodTable& t)
{
    auto const list_schema = schema::object({{"labels", schema::array(label_schema())}});
    t.push_back({.name = "labels.list",
                 .summary = "Labels with their policies, where each comes from, torrents using it.",
                 .mutates = false,
                 .params = {},
                 .result = list_schema,
                 .handler = [](Call& c) { return labels_json(c.engine().labels()); }});
    t.push_back(
        {.name = "labels.set",
         .summary = "Create or change a label at run time; settings not given keep their value.",
         .mutates = true,
         .params = {{"name", Type::string, true, "the label (no commas)"},
                    {"save_path", Type::string, false, "where torrents added with it go"},
                    {"move_on_complete", Type::string, false, "absolute folder, \"\" = stay"},
                    Param{"ratio_limit", Type::number, false, "-1 = none"}.range(-1, 1'000'000),
                    Param{"seed_time_limit", Type::integer, false, "seconds, -1 = none"}.range(
                        -1, 1LL << 40),
                    Param{"idle_limit", Type::integer, false, "seconds, -1 = none"}.range(
                        -1, 1LL << 40),
                    Param{"limit_action", Type::string, false, "at a limit"}.one_of(
                        config::limit_actions())},
         .result = list_schema,
         .handler = labels_set});
    t.push_back({.name = "labels.remove",
                 .summary = "Remove a label made at run time (the config file's stay).",
                 .mutates = true,
                 .params = {{"name", Type::string, true, "the label"}},
                 .result = list_schema,
                 .handler = [](Call& c) {
                     unwrap(c.engine().remove_label(c.arg<std::string>("name")));
                     return labels_json(c.engine().labels());
                 }});
}

} // namespace seedbox::rpc
