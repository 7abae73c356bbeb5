// Method-table checks: the table itself at start, then each param's type, range, choices, members.
#include "rpc/method.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <set>
#include <stdexcept>
#include <string>

namespace seedbox::rpc {

void check_method_table(MethodTable const& table)
{
    std::set<std::string> names;
    for (auto const& m : table) {
        if (!names.insert(m.name).second)
            throw std::logic_error("method " + m.name + " is declared twice");
        if (!m.result.is_object() || !m.result.contains("type"))
            throw std::logic_error("method " + m.name + " has no result schema type");
        std::set<std::string> params;
        for (auto const& p : m.params) {
            if (!params.insert(p.name).second)
                throw std::logic_error("method " + m.name + ": param " + p.name +
                                       " is declared twice");
            if (p.type == Type::integer && (!p.min || !p.max))
                throw std::logic_error("method " + m.name + ": integer param " + p.name +
                                       " has no range");
        }
    }
}

char const* type_name(Type t)
{
    switch (t) {
    case Type::string:
        return "string";
    case Type::integer:
        return "integer";
    case Type::number:
        return "number";
    case Type::boolean:
        return "boolean";
    case Type::array:
        return "array";
    case Type::object:
        return "object";
    case Type::string_array:
        return "array of strings";
    case Type::base64:
        return "base64 string";
    case Type::any:
        return "any";
    }
    return "?";
}

bool type_matches(Type t, json const& v)
{
    switch (t) {
    case Type::string:
    case Type::base64:
        return v.is_string();
    case Type::integer:
        return v.is_number_integer();
    case Type::number:
        return v.is_number();
    case Type::boolean:
        return v.is_boolean();
    case Type::array:
        return v.is_array();
    case Type::object:
        return v.is_object();
    case Type::string_array:
        return v.is_array() &&
               std::all_of(v.begin(), v.end(), [](json const& e) { return e.is_string(); });
    case Type::any:
        return true;
    }
    return false;
}

namespace {

std::string a_or_an(std::string const& noun)
{
    return (std::string("aeiou").find(noun[0]) != std::string::npos ? "an " : "a ") + noun;
}

std::string range_text(Param const& p)
{
    if (p.min && p.max)
        return "from " + std::to_string(*p.min) + " to " + std::to_string(*p.max);
    if (p.min)
        return "of at least " + std::to_string(*p.min);
    return "of at most " + std::to_string(*p.max);
}

std::string choices_text(std::vector<std::string> const& choices)
{
    std::string out;
    for (std::size_t i = 0; i < choices.size(); ++i)
        out += (i == 0 ? "" : i + 1 == choices.size() ? " or " : ", ") + ("\"" + choices[i] + "\"");
    return out;
}

std::string check_members(std::vector<Param> const& fields, json const& obj,
                          std::string const& where)
{
    for (auto const& [key, value] : obj.items()) {
        auto f = std::find_if(fields.begin(), fields.end(),
                              [&key = key](Param const& p) { return p.name == key; });
        if (f == fields.end())
            return "unknown member \"" + key + "\" in \"" + where + "\"";
        if (value.is_null())
            continue;
        if (auto why = check_param(*f, value, where + "." + key); !why.empty())
            return why;
    }
    for (auto const& f : fields)
        if (f.required && (!obj.contains(f.name) || obj[f.name].is_null()))
            return "\"" + where + "\" needs \"" + f.name + "\"";
    return {};
}

} // namespace

std::string check_param(Param const& p, json const& v, std::string const& where)
{
    if (!type_matches(p.type, v))
        return "param \"" + where + "\" must be " + a_or_an(type_name(p.type));
    auto const has_range = p.min || p.max;
    if (p.type == Type::integer && has_range) {
        bool const above =
            v.is_number_unsigned() && v.get<std::uint64_t>() > std::uint64_t(INT64_MAX);
        auto const n = above ? INT64_MAX : v.get<std::int64_t>();
        if (above || (p.min && n < *p.min) || (p.max && n > *p.max))
            return "param \"" + where + "\" must be an integer " + range_text(p);
    }
    if (p.type == Type::number) {
        auto const d = v.get<double>();
        if (!std::isfinite(d) || (p.min && d < static_cast<double>(*p.min)) ||
            (p.max && d > static_cast<double>(*p.max)))
            return "param \"" + where + "\" must be a number " +
                   (has_range ? range_text(p) : "that is finite");
    }
    if (!p.choices.empty()) {
        auto allowed = [&](json const& s) {
            return std::find(p.choices.begin(), p.choices.end(), s.get<std::string>()) !=
                   p.choices.end();
        };
        if (p.type == Type::string && !allowed(v))
            return "param \"" + where + "\" must be " + choices_text(p.choices);
        if (p.type == Type::string_array && !std::all_of(v.begin(), v.end(), allowed))
            return "param \"" + where + "\" may only hold " + choices_text(p.choices);
    }
    if (!p.fields.empty() && p.type == Type::object)
        return check_members(p.fields, v, where);
    if (!p.fields.empty() && p.type == Type::array) {
        for (std::size_t i = 0; i < v.size(); ++i) {
            auto const at = where + "[" + std::to_string(i) + "]";
            if (p.or_string && v[i].is_string())
                continue;
            if (!v[i].is_object())
                return "param \"" + at + "\" must be an object" +
                       (p.or_string ? " or a string" : "");
            if (auto why = check_members(p.fields, v[i], at); !why.empty())
                return why;
        }
    }
    return {};
}

} // namespace seedbox::rpc
