// Label policies in the config ("labels" in the file, SEEDBOXD_LABELS): checked onto
// Config::labels and printed back as JSON.
#include "config/settings.h"

#include "config/keys_internal.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>

namespace seedbox::config {

std::string check_label_name(std::string_view name)
{
    if (name.empty() || name.size() > 128)
        return "a label name must be 1 to 128 bytes";
    for (unsigned char c : name)
        if (c == ',' || c < 0x20 || c == 0x7f)
            return "a label name must not contain commas or control characters";
    return {};
}

std::string parse_label(nlohmann::json const& s, LabelPolicy& p, std::string_view where)
{
    auto bad = [&](std::string const& key, std::string const& why) {
        return std::string(where) + "." + key + ": " + why;
    };
    if (!s.is_object())
        return std::string(where) + ": expected an object";
    for (auto const& [k, x] : s.items()) {
        if (k == "move_on_complete" || k == "save_path") {
            if (!x.is_string() || (k == "move_on_complete" && !x.get<std::string>().empty() &&
                                   x.get<std::string>().front() != '/'))
                return bad(k, k == "save_path" ? "must be a path (\"\" = the default)"
                                               : "must be an absolute path (\"\" = stay)");
            (k == "save_path" ? p.save_path : p.move_on_complete) = x.get<std::string>();
        } else if (k == "ratio_limit") {
            if (!x.is_number() || (x.get<double>() < 0 && x.get<double>() != -1) ||
                x.get<double>() > 1e6)
                return bad(k, "must be a number 0..1000000, or -1 for none");
            p.ratio_limit = x.get<double>();
        } else if (k == "seed_time_limit" || k == "idle_limit") {
            if (!x.is_number_integer() || x.get<std::int64_t>() < -1 ||
                x.get<std::int64_t>() > (1LL << 40))
                return bad(k, "must be seconds 0..2^40, or -1 for none");
            (k == "idle_limit" ? p.idle_limit : p.seed_time_limit) = x.get<std::int64_t>();
        } else if (k == "limit_action") {
            auto const& actions = limit_actions();
            if (!x.is_string() ||
                std::find(actions.begin(), actions.end(), x.get<std::string>()) == actions.end())
                return bad(k, "must be stop, remove or remove_data");
            p.limit_action = x.get<std::string>();
        } else {
            return "unknown key \"" + std::string(where) + "." + k +
                   "\" (a label has save_path, move_on_complete, ratio_limit, seed_time_limit, "
                   "idle_limit, limit_action)";
        }
    }
    return {};
}

nlohmann::json label_json(LabelPolicy const& p)
{
    return {{"save_path", p.save_path},     {"move_on_complete", p.move_on_complete},
            {"ratio_limit", p.ratio_limit}, {"seed_time_limit", p.seed_time_limit},
            {"idle_limit", p.idle_limit},   {"limit_action", p.limit_action}};
}

} // namespace seedbox::config

namespace seedbox::config::detail {

// "labels": {"tv": {"move_on_complete": "/srv/tv", "ratio_limit": 2, ...}, ...}
std::string set_labels(Config& cfg, json const& v, std::string_view origin)
{
    if (!v.is_object())
        return std::string(origin) + ": key \"labels\": expected an object of label name -> "
                                     "settings";
    std::map<std::string, LabelPolicy> out;
    for (auto const& [label, s] : v.items()) {
        if (auto why = check_label_name(label); !why.empty())
            return std::string(origin) + ": key \"labels\": " + why;
        LabelPolicy p;
        if (auto why = parse_label(s, p, "labels." + label); !why.empty())
            return std::string(origin) + ": " +
                   (why.rfind("unknown key", 0) == 0 ? why
                                                     : "key \"" + why.substr(0, why.find(':')) +
                                                           "\"" + why.substr(why.find(':')));
        out[label] = p;
    }
    cfg.labels = std::move(out);
    return {};
}

json labels_json(Config const& cfg)
{
    json out = json::object();
    for (auto const& [label, p] : cfg.labels)
        out[label] = label_json(p);
    return out;
}

} // namespace seedbox::config::detail
