// Loading the configuration: the config file, SEEDBOXD_* variables and --set flags over the
// defaults, then resolve(); and the key table's views (to_json, keys, set_value).
#include "config/settings.h"

#include "config/keys_internal.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

namespace seedbox::config {

using json = nlohmann::json;
using detail::find_key;
using detail::Key;
using detail::labels_json;
using detail::set_checked;
using detail::set_key;
using detail::set_labels;
using detail::table;
using detail::type_of;
using detail::value_of;

namespace {

std::string walk(Config& cfg, json const& obj, std::string const& prefix, std::string_view origin)
{
    for (auto const& [name, v] : obj.items()) {
        auto full = prefix.empty() ? name : prefix + "." + name;
        if (full == "labels") {
            if (auto err = set_labels(cfg, v, origin); !err.empty())
                return err;
            continue;
        }
        if (v.is_object()) {
            bool is_section = std::any_of(table().begin(), table().end(), [&](Key const& k) {
                return k.name.substr(0, full.size() + 1) == full + ".";
            });
            if (!is_section)
                return std::string(origin) + ": unknown key \"" + full + "\"";
            if (auto err = walk(cfg, v, full, origin); !err.empty())
                return err;
            continue;
        }
        auto const* key = find_key(full);
        if (!key)
            return std::string(origin) + ": unknown key \"" + full + "\"";
        if (auto err = set_key(cfg, *key, v, origin); !err.empty())
            return err;
    }
    return {};
}

} // namespace

std::optional<Endpoint> parse_endpoint(std::string_view text)
{
    Endpoint ep;
    std::string_view port;
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
            return std::nullopt;
        ep.host = std::string(text.substr(1, close - 1));
        port = text.substr(close + 2);
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string_view::npos || text.find(':') != colon)
            return std::nullopt;
        ep.host = std::string(text.substr(0, colon));
        port = text.substr(colon + 1);
    }
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ep.host.empty() || port.empty() || ec != std::errc{} || ptr != port.data() + port.size() ||
        value > 65535)
        return std::nullopt;
    ep.port = static_cast<std::uint16_t>(value);
    return ep;
}

std::string env_name(std::string_view key)
{
    std::string out = "SEEDBOXD_";
    for (char c : key)
        out += c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

void Config::resolve()
{
    namespace fs = std::filesystem;
    auto absolute = [](std::string& path) {
        if (path.empty())
            return;
        std::error_code ec;
        auto abs = fs::absolute(path, ec);
        if (!ec)
            path = abs.lexically_normal().string();
        // "/srv/x/" and "/srv/x" are one directory; keep the root itself as "/".
        while (path.size() > 1 && path.back() == '/')
            path.pop_back();
    };
    auto derive = [&](std::string const& key, std::string& value, fs::path const& from) {
        if (!value.empty() && !derived.contains(key))
            return;
        value = from.string();
        derived.insert(key);
    };
    absolute(state_dir);
    derive("rpc.token_file", rpc.token_file, fs::path(state_dir) / "rpc.token");
    derive("torrent.default_save_path", torrent.default_save_path,
           fs::path(state_dir) / "downloads");
    derive("tron.key_file", tron.key_file, fs::path(state_dir) / "tron.key");
    absolute(rpc.token_file);
    absolute(torrent.default_save_path);
    absolute(tron.key_file);
    absolute(tron.api_key_file);
    absolute(watch.dir);
    if (torrent.allowed_roots.empty() || derived.contains("torrent.allowed_roots")) {
        torrent.allowed_roots = {torrent.default_save_path};
        derived.insert("torrent.allowed_roots");
    }
    for (auto& root : torrent.allowed_roots)
        absolute(root);
}

std::string apply_json(Config& cfg, std::string_view text, std::string_view origin)
{
    json doc;
    try {
        doc = json::parse(text, nullptr, true, /*ignore_comments=*/true);
    } catch (json::parse_error const& e) {
        return std::string(origin) + ": not valid JSON: " + e.what();
    }
    if (!doc.is_object())
        return std::string(origin) + ": the top level must be an object";
    return walk(cfg, doc, "", origin);
}

std::string apply_string(Config& cfg, std::string_view key_name, std::string_view value,
                         std::string_view origin)
{
    auto const* key = find_key(key_name);
    if (!key)
        return std::string(origin) + ": unknown key \"" + std::string(key_name) + "\"";
    auto type = type_of(key->field(cfg));
    std::string s(value);
    json v;
    if (type == "boolean") {
        if (s == "true" || s == "1" || s == "yes" || s == "on")
            v = true;
        else if (s == "false" || s == "0" || s == "no" || s == "off")
            v = false;
        else
            v = s; // rejected by assign with a message naming the key
    } else if (type == "integer") {
        std::int64_t n = 0;
        auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
        if (ec == std::errc{} && ptr == s.data() + s.size() && !s.empty())
            v = n;
        else
            v = s;
    } else if (type == "number") {
        double d = 0;
        auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
        if (ec == std::errc{} && ptr == s.data() + s.size() && !s.empty())
            v = d;
        else
            v = s;
    } else if (type == "string[]") {
        if (!s.empty() && s.front() == '[') {
            v = json::parse(s, nullptr, false);
            if (v.is_discarded())
                v = s;
        } else {
            v = json::array();
            std::stringstream ss(s);
            std::string item;
            while (std::getline(ss, item, ','))
                if (!item.empty())
                    v.push_back(item);
        }
    } else {
        v = s;
    }
    return set_key(cfg, *key, v, origin);
}

LoadResult load(Sources const& sources)
{
    Config cfg;
    if (sources.config_file) {
        std::ifstream in(*sources.config_file, std::ios::binary);
        if (!in)
            return {std::nullopt, "cannot read config file " + *sources.config_file};
        std::stringstream ss;
        ss << in.rdbuf();
        if (auto err = apply_json(cfg, ss.str(), *sources.config_file); !err.empty())
            return {std::nullopt, err};
    }
    for (auto const& [name, value] : sources.env) {
        if (name == "SEEDBOXD_CONFIG")
            continue; // names the file, not a key
        if (name == "SEEDBOXD_LABELS") {
            json v = json::parse(value, nullptr, false);
            if (v.is_discarded())
                return {std::nullopt, "environment SEEDBOXD_LABELS: not valid JSON"};
            if (auto err = set_labels(cfg, v, "environment SEEDBOXD_LABELS"); !err.empty())
                return {std::nullopt, err};
            continue;
        }
        auto const* key = [&, &name = name]() -> Key const* {
            for (auto const& k : table())
                if (env_name(k.name) == name)
                    return &k;
            return nullptr;
        }();
        if (!key)
            return {std::nullopt, "environment: unknown variable " + name};
        if (key->file_only)
            return {std::nullopt, "environment " + name + ": " + std::string(key->name) +
                                      " can only be set in the config file"};
        if (auto err = apply_string(cfg, key->name, value, "environment " + name); !err.empty())
            return {std::nullopt, err};
    }
    for (auto const& [name, value] : sources.overrides) {
        if (auto const* key = find_key(name); key && key->file_only)
            return {std::nullopt, "command line: " + name + " can only be set in the config file"};
        if (auto err = apply_string(cfg, name, value, "command line"); !err.empty())
            return {std::nullopt, err};
    }
    cfg.resolve();
    return {cfg, {}};
}

nlohmann::json to_json(Config const& cfg, bool redact)
{
    Config copy = cfg;
    json out = json::object();
    for (auto const& k : table()) {
        json v = value_of(k.field(copy));
        if (cfg.derived.contains(std::string(k.name)))
            v = v.is_array() ? json::array() : json("");
        if (redact && k.secret && v.is_string() && !v.get<std::string>().empty())
            v = "<redacted>";
        // Appended, not "/" + name: GCC 12 at -O3 misreads that as an overlapping copy
        // (-Wrestrict, GCC bug 105329).
        std::string pointer(1, '/');
        pointer += k.name;
        std::replace(pointer.begin(), pointer.end(), '.', '/');
        out[json::json_pointer(pointer)] = v;
    }
    out["labels"] = labels_json(cfg);
    return out;
}

std::vector<KeyInfo> keys()
{
    Config defaults;
    std::vector<KeyInfo> out;
    for (auto const& k : table()) {
        auto f = k.field(defaults);
        KeyInfo info{std::string(k.name), type_of(f), std::string(k.help), value_of(f)};
        info.min = k.check.min;
        info.max = k.check.max;
        info.choices = k.check.choices;
        info.secret = k.secret;
        info.file_only = k.file_only;
        info.apply = k.apply;
        out.push_back(std::move(info));
    }
    KeyInfo labels{"labels", "object",
                   "label -> {move_on_complete, ratio_limit, seed_time_limit, limit_action}: "
                   "where a label's torrents go when done and their default share limits",
                   json::object()};
    labels.apply = Apply::reload;
    out.push_back(std::move(labels));
    return out;
}

std::string set_value(Config& cfg, std::string_view key, nlohmann::json const& v)
{
    auto const* k = find_key(key);
    if (!k)
        return "unknown key";
    return set_checked(cfg, *k, v);
}

} // namespace seedbox::config
