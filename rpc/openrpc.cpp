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

} // namespace

json openrpc_document(MethodTable const& table)
{
    json methods = json::array();
    for (auto const& m : table) {
        json params = json::array();
        for (auto const& p : m.params)
            params.push_back({{"name", p.name},
                              {"description", p.help},
                              {"required", p.required},
                              {"schema", schema_of(p.type)}});
        json entry = {{"name", m.name},
                      {"summary", m.summary},
                      {"paramStructure", "by-name"},
                      {"params", params},
                      {"result", {{"name", "result"}, {"schema", m.result}}},
                      {"x-mutates", m.mutates}};
        if (m.websocket_only)
            entry["x-websocket-only"] = true;
        methods.push_back(std::move(entry));
    }
    return {{"openrpc", "1.2.6"},
            {"info", {{"title", "seedboxd JSON-RPC API"}, {"version", SEEDBOXD_VERSION}}},
            {"methods", methods}};
}

} // namespace seedbox::rpc
