// What the files behind config/settings.h (keys.cpp, values.cpp, labels.cpp, settings.cpp)
// share: the key table's types and lookups; not part of the config API.
#pragma once

#include "config/settings.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace seedbox::config::detail {

using json = nlohmann::json;
// Where a key's value lives in a Config.
using Field = std::variant<bool*, std::int64_t*, double*, std::string*, std::vector<std::string>*>;
// A key's validation: a function returning why a value is not acceptable (empty when it is), and
// for ranges and fixed choices the declared bounds, which --help-config prints.
struct Check {
    std::function<std::string(Field const&)> fn;
    std::optional<std::int64_t> min, max;
    std::vector<std::string> choices;
    Check() = default;
    Check(std::nullptr_t) {}
    template <class F,
              class = std::enable_if_t<std::is_invocable_r_v<std::string, F, Field const&>>>
    Check(F f) : fn(std::move(f))
    {
    }
    explicit operator bool() const { return static_cast<bool>(fn); }
    std::string operator()(Field const& f) const { return fn(f); }
};

struct Key {
    std::string_view name;
    std::function<Field(Config&)> field;
    std::string_view help;
    Check check;
    bool secret = false;
    bool file_only = false; // program paths: never from the environment or a flag
    Apply apply = Apply::restart;
};

// keys.cpp: every key but labels, in --help-config order, and the one named `name` (or nullptr).
std::vector<Key> const& table();
Key const* find_key(std::string_view name);

// values.cpp: a field's type name ("boolean", "integer", "number", "string", "string[]") and
// JSON value.
std::string type_of(Field const& f);
json value_of(Field const& f);
// Why `v` is not acceptable for `key` (empty when it is, and then cfg holds it).
std::string set_checked(Config& cfg, Key const& key, json const& v);
// set_checked's answer prefixed with the origin and the key's name.
std::string set_key(Config& cfg, Key const& key, json const& v, std::string_view origin);

// labels.cpp: the "labels" object checked onto cfg.labels (replacing them; unchanged on an
// error), and cfg.labels back in that shape.
std::string set_labels(Config& cfg, json const& v, std::string_view origin);
json labels_json(Config const& cfg);

} // namespace seedbox::config::detail
