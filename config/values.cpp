// A key's value: its field's type name and JSON form, and setting it from JSON with the key's
// checks (on a trial copy, so a refused value leaves the Config unchanged).
#include "config/settings.h"

#include "config/keys_internal.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

namespace seedbox::config::detail {
namespace {

// Assigns a JSON value to a field; returns why not on a type mismatch.
std::string assign(Field const& f, json const& v)
{
    return std::visit(
        [&v](auto* p) -> std::string {
            using T = std::remove_pointer_t<decltype(p)>;
            if constexpr (std::is_same_v<T, bool>) {
                if (!v.is_boolean())
                    return "expected true or false";
                *p = v.get<bool>();
            } else if constexpr (std::is_same_v<T, std::int64_t>) {
                if (!v.is_number_integer())
                    return "expected an integer";
                if (v.is_number_unsigned() && v.get<std::uint64_t>() > std::uint64_t(INT64_MAX))
                    return "out of range";
                *p = v.get<std::int64_t>();
            } else if constexpr (std::is_same_v<T, double>) {
                if (!v.is_number())
                    return "expected a number";
                *p = v.get<double>();
            } else if constexpr (std::is_same_v<T, std::string>) {
                if (!v.is_string())
                    return "expected a string";
                *p = v.get<std::string>();
            } else {
                if (!v.is_array() ||
                    !std::all_of(v.begin(), v.end(), [](json const& e) { return e.is_string(); }))
                    return "expected an array of strings";
                *p = v.get<std::vector<std::string>>();
            }
            return {};
        },
        f);
}

} // namespace

std::string type_of(Field const& f)
{
    return std::visit(
        [](auto* p) -> std::string {
            using T = std::remove_pointer_t<decltype(p)>;
            if constexpr (std::is_same_v<T, bool>)
                return "boolean";
            else if constexpr (std::is_same_v<T, std::int64_t>)
                return "integer";
            else if constexpr (std::is_same_v<T, double>)
                return "number";
            else if constexpr (std::is_same_v<T, std::string>)
                return "string";
            else
                return "string[]";
        },
        f);
}

json value_of(Field const& f)
{
    return std::visit([](auto* p) { return json(*p); }, f);
}

std::string set_checked(Config& cfg, Key const& key, json const& v)
{
    Config trial = cfg;
    auto field = key.field(trial);
    auto why = assign(field, v);
    if (why.empty() && key.check)
        why = key.check(field);
    if (why.empty())
        cfg = std::move(trial);
    return why;
}

std::string set_key(Config& cfg, Key const& key, json const& v, std::string_view origin)
{
    if (auto why = set_checked(cfg, key, v); !why.empty())
        return std::string(origin) + ": key \"" + std::string(key.name) + "\": " + why;
    return {};
}

} // namespace seedbox::config::detail
