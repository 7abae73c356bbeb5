#include "rpc/dispatch.h"

#include "rpc/json_limits.h"

#include <chrono>
#include <spdlog/spdlog.h>

namespace seedbox::rpc {

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

json response_error(json const& id, int code, std::string const& token, std::string const& msg)
{
    return {{"jsonrpc", "2.0"}, {"id", id}, {"error", error_object(code, token, msg)}};
}

std::string dump(json const& j)
{
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace

namespace {
std::vector<std::string> names_of(MethodTable const& t)
{
    std::vector<std::string> names;
    for (auto const& m : t)
        names.push_back(m.name);
    return names;
}
} // namespace

Dispatcher::Dispatcher(MethodTable table, Context& ctx, Limits limits)
    : table_(std::move(table)), metrics_(names_of(table_)), ctx_(ctx), limits_(limits)
{
    for (auto const& m : table_)
        index_[m.name] = &m;
}

std::optional<std::string> Dispatcher::handle(std::string_view body, Connection& conn)
{
    if (json_depth(body, limits_.max_depth) > limits_.max_depth)
        return dump(response_error(nullptr, kInvalidRequest, "too_deep",
                                   "JSON nesting is deeper than the limit of " +
                                       std::to_string(limits_.max_depth)));
    json doc = json::parse(body, nullptr, false);
    if (doc.is_discarded())
        return dump(response_error(nullptr, kParseError, "parse_error",
                                   "Parse error: the request body is not valid JSON"));
    if (doc.is_array()) {
        if (doc.empty())
            return dump(response_error(nullptr, kInvalidRequest, "invalid_request",
                                       "Invalid Request: empty batch"));
        if (doc.size() > limits_.max_batch)
            return dump(response_error(nullptr, kInvalidRequest, "batch_too_large",
                                       "Invalid Request: batch of " + std::to_string(doc.size()) +
                                           " calls; the limit is " +
                                           std::to_string(limits_.max_batch)));
        json out = json::array();
        for (auto const& r : doc)
            if (auto resp = handle_one(r, conn))
                out.push_back(std::move(*resp));
        if (out.empty())
            return std::nullopt;
        return dump(out);
    }
    auto resp = handle_one(doc, conn);
    if (!resp)
        return std::nullopt;
    return dump(*resp);
}

std::optional<json> Dispatcher::handle_one(json const& req, Connection& conn)
{
    auto const start = std::chrono::steady_clock::now();
    std::string method;
    int error = 0;
    auto answer = run_one(req, conn, method, error);
    if (answer && answer->contains("error"))
        error = (*answer)["error"].value("code", kInternalError);
    metrics_.observe(
        method, error,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return answer;
}

std::optional<json> Dispatcher::run_one(json const& req, Connection& conn, std::string& name_out,
                                        int& error)
{
    // Envelope
    if (!req.is_object())
        return response_error(nullptr, kInvalidRequest, "invalid_request",
                              "Invalid Request: expected a JSON-RPC 2.0 request object");
    json id = nullptr;
    bool notification = !req.contains("id");
    if (!notification) {
        id = req["id"];
        if (!id.is_string() && !id.is_number() && !id.is_null())
            return response_error(nullptr, kInvalidRequest, "invalid_request",
                                  "Invalid Request: id must be a string, number or null");
    }
    if (req.value("jsonrpc", json()) != "2.0")
        return response_error(id, kInvalidRequest, "invalid_request",
                              "Invalid Request: \"jsonrpc\" must be \"2.0\"");
    if (!req.contains("method") || !req["method"].is_string())
        return response_error(id, kInvalidRequest, "invalid_request",
                              "Invalid Request: \"method\" must be a string");
    auto const name = req["method"].get<std::string>();
    json params = req.value("params", json::object());
    if (params.is_null())
        params = json::object();
    if (!params.is_object())
        return response_error(id, kInvalidParams, "invalid_params",
                              "Invalid params: params must be an object of named parameters");

    auto reply = [&](json r) -> std::optional<json> {
        if (notification)
            return std::nullopt;
        return json{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(r)}};
    };
    auto fail = [&](int code, std::string const& token,
                    std::string const& msg) -> std::optional<json> {
        error = code;
        if (notification)
            return std::nullopt;
        return response_error(id, code, token, msg);
    };

    // Lookup
    auto it = index_.find(name);
    name_out = it == index_.end() ? "unknown" : name;
    if (it == index_.end())
        return fail(kMethodNotFound, "method_not_found",
                    "Method not found: " + name + " (see rpc.discover)");
    auto const& method = *it->second;

    // Auth / role
    if (!conn.authenticated() && !method.public_method)
        return fail(kUnauthorized, "unauthorized",
                    "Unauthorized: send Authorization: Bearer <token> or call auth.login first");
    if (method.websocket_only && !conn.websocket())
        return fail(kInvalidParams, "websocket_only",
                    name + " is only available over the WebSocket at GET /rpc");

    // Params
    for (auto const& [key, value] : params.items()) {
        auto p = std::find_if(method.params.begin(), method.params.end(),
                              [&](Param const& pp) { return pp.name == key; });
        if (p == method.params.end())
            return fail(kInvalidParams, "invalid_params",
                        "Invalid params: unknown param \"" + key + "\" for " + name);
        if (!value.is_null() && !type_matches(p->type, value))
            return fail(kInvalidParams, "invalid_params",
                        "Invalid params: param \"" + key + "\" must be " +
                            (std::string("aeiou").find(type_name(p->type)[0]) != std::string::npos
                                 ? "an "
                                 : "a ") +
                            type_name(p->type));
    }
    for (auto const& p : method.params)
        if (p.required && (!params.contains(p.name) || params[p.name].is_null()))
            return fail(kInvalidParams, "invalid_params",
                        "Invalid params: missing required param \"" + p.name + "\" for " + name);

    // Run
    try {
        Call call(ctx_, conn, method, params);
        return reply(method.handler(call));
    } catch (RpcError const& e) {
        return fail(e.code, e.token, e.what());
    } catch (std::exception const& e) {
        spdlog::error("{} failed: {}", name, e.what());
        return fail(kInternalError, "internal_error", std::string("Internal error: ") + e.what());
    }
}

} // namespace seedbox::rpc
