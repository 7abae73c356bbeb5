#include "daemon/base/events.h"
#include "rpc/errors.h"
#include "rpc/method.h"

namespace seedbox::rpc {

namespace {

json schema_of(Type t)
{
    switch (t) {
    case Type::string:
        return {{"type", "string"}};
    case Type::base64:
        return {{"type", "string"}, {"contentEncoding", "base64"}};
    case Type::integer:
        return {{"type", "integer"}};
    case Type::number:
        return {{"type", "number"}};
    case Type::boolean:
        return {{"type", "boolean"}};
    case Type::array:
        return {{"type", "array"}};
    case Type::object:
        return {{"type", "object"}};
    case Type::string_array:
        return {{"type", "array"}, {"items", {{"type", "string"}}}};
    case Type::any:
        return json::object();
    }
    return json::object();
}

json object_schema(std::vector<Param> const& fields)
{
    json props = json::object();
    json required = json::array();
    for (auto const& f : fields) {
        props[f.name] = param_schema(f);
        if (!f.help.empty())
            props[f.name]["description"] = f.help;
        if (f.required)
            required.push_back(f.name);
    }
    json s = {{"type", "object"}, {"properties", props}, {"additionalProperties", false}};
    if (!required.empty())
        s["required"] = required;
    return s;
}

} // namespace

json param_schema(Param const& p)
{
    json s = schema_of(p.type);
    if (p.min)
        s["minimum"] = *p.min;
    if (p.max)
        s["maximum"] = *p.max;
    if (!p.choices.empty()) {
        if (p.type == Type::string_array)
            s["items"]["enum"] = p.choices;
        else
            s["enum"] = p.choices;
    }
    if (!p.fallback.is_null())
        s["default"] = p.fallback;
    if (!p.fields.empty() && p.type == Type::object) {
        auto members = object_schema(p.fields);
        s.update(members);
    } else if (!p.fields.empty()) {
        auto item = object_schema(p.fields);
        s["items"] = p.or_string ? json{{"oneOf", {{{"type", "string"}}, item}}} : item;
    }
    return s;
}

json openrpc_document(MethodTable const& table)
{
    json methods = json::array();
    for (auto const& m : table) {
        json params = json::array();
        for (auto const& p : m.params)
            params.push_back({{"name", p.name},
                              {"description", p.help},
                              {"required", p.required},
                              {"schema", param_schema(p)}});
        json entry = {{"name", m.name},
                      {"summary", m.summary},
                      {"paramStructure", "by-name"},
                      {"params", params},
                      {"result", {{"name", "result"}, {"schema", m.result}}},
                      {"x-mutates", m.mutates}};
        if (m.websocket_only)
            entry["x-websocket-only"] = true;
        if (m.runs == Runs::slow)
            entry["x-slow"] = true;
        methods.push_back(std::move(entry));
    }
    // OpenRPC's Error Objects, keyed by token: every error an answer may carry (rpc/errors.cpp).
    json errors = json::object();
    for (auto const& k : kinds())
        errors[std::string(k.token)] = {{"code", k.code},
                                        {"message", std::string(k.meaning)},
                                        {"data", {{"token", std::string(k.token)}}}};
    // The notifications a WebSocket subscriber receives, keyed by method (rpc/methods/events.cpp).
    json events = json::object();
    for (auto const& e : event_table())
        events[daemon::name(e.event)] = {{"summary", e.summary}, {"params", e.payload}};
    return {{"openrpc", "1.2.6"},
            {"info", {{"title", "seedboxd JSON-RPC API"}, {"version", SEEDBOXD_VERSION}}},
            {"methods", methods},
            {"components", {{"errors", errors}, {"x-events", events}}}};
}

} // namespace seedbox::rpc
