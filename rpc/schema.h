// Small builders for the JSON Schemas of method results (Method::result): what rpc.discover
// publishes and what the integration harness validates every answer against
// (tests/integration/harness.py). An object lists its properties; those in `required` are always
// present, those in `optional` only sometimes.
#pragma once

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

namespace seedbox::rpc::schema {

using json = nlohmann::json;
using Props = std::initializer_list<std::pair<char const*, json>>;

inline json type(char const* t)
{
    return {{"type", t}};
}
inline json string()
{
    return type("string");
}
inline json integer()
{
    return type("integer");
}
inline json number()
{
    return type("number");
}
inline json boolean()
{
    return type("boolean");
}
// BTT base units: a decimal string (money is never a JSON number).
inline json amount()
{
    return {{"type", "string"}, {"pattern", "^[0-9]+$"}};
}
// `t`, or null when not known (yet).
inline json or_null(json t)
{
    return {{"anyOf", {std::move(t), type("null")}}};
}
inline json array(json items)
{
    return {{"type", "array"}, {"items", std::move(items)}};
}
// An object whose keys are data (torrent states, batch states): values of one schema.
inline json map(json values)
{
    return {{"type", "object"}, {"additionalProperties", std::move(values)}};
}
inline json object(Props required, Props optional = {})
{
    json props = json::object();
    json names = json::array();
    for (auto const& [k, v] : required) {
        props[k] = v;
        names.push_back(k);
    }
    for (auto const& [k, v] : optional)
        props[k] = v;
    json out = {{"type", "object"}, {"properties", std::move(props)}};
    if (!names.empty())
        out["required"] = std::move(names);
    return out;
}

} // namespace seedbox::rpc::schema
