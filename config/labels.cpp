// Label policies in the config ("labels" in the file, SEEDBOXD_LABELS): checked onto
// Config::labels and printed back as JSON.
#include "config/settings.h"

#include "config/keys_internal.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>

namespace seedbox::config::detail {

// "labels": {"tv": {"move_on_complete": "/srv/tv", "ratio_limit": 2, ...}, ...}
std::string set_labels(Config& cfg, json const& v, std::string_view origin)
{
    auto bad = [&](std::string const& key, std::string const& why) {
        return std::string(origin) + ": key \"" + key + "\": " + why;
    };
    if (!v.is_object())
        return bad("labels", "expected an object of label name -> settings");
    std::map<std::string, LabelPolicy> out;
    for (auto const& [label, s] : v.items()) {
        auto const base = "labels." + label;
        if (label.empty())
            return bad("labels", "a label name must not be empty");
        if (!s.is_object())
            return bad(base, "expected an object");
        LabelPolicy p;
        for (auto const& [k, x] : s.items()) {
            auto const key = base + "." + k;
            if (k == "move_on_complete") {
                if (!x.is_string() || x.get<std::string>().empty() ||
                    x.get<std::string>().front() != '/')
                    return bad(key, "must be an absolute path");
                p.move_on_complete = x.get<std::string>();
            } else if (k == "ratio_limit") {
                if (!x.is_number() || (x.get<double>() < 0 && x.get<double>() != -1))
                    return bad(key, "must be a number >= 0, or -1 for none");
                p.ratio_limit = x.get<double>();
            } else if (k == "seed_time_limit") {
                if (!x.is_number_integer() || x.get<std::int64_t>() < -1)
                    return bad(key, "must be seconds >= 0, or -1 for none");
                p.seed_time_limit = x.get<std::int64_t>();
            } else if (k == "idle_limit") {
                if (!x.is_number_integer() || x.get<std::int64_t>() < -1)
                    return bad(key, "must be seconds >= 0, or -1 for none");
                p.idle_limit = x.get<std::int64_t>();
            } else if (k == "limit_action") {
                auto const& actions = limit_actions();
                if (!x.is_string() || std::find(actions.begin(), actions.end(),
                                                x.get<std::string>()) == actions.end())
                    return bad(key, "must be stop, remove or remove_data");
                p.limit_action = x.get<std::string>();
            } else {
                return std::string(origin) + ": unknown key \"" + key +
                       "\" (a label has move_on_complete, ratio_limit, seed_time_limit, "
                       "idle_limit, limit_action)";
            }
        }
        out[label] = p;
    }
    cfg.labels = std::move(out);
    return {};
}

json labels_json(Config const& cfg)
{
    json out = json::object();
    for (auto const& [label, p] : cfg.labels)
        out[label] = {{"move_on_complete", p.move_on_complete},
                      {"ratio_limit", p.ratio_limit},
                      {"seed_time_limit", p.seed_time_limit},
                      {"idle_limit", p.idle_limit},
                      {"limit_action", p.limit_action}};
    return out;
}

} // namespace seedbox::config::detail
