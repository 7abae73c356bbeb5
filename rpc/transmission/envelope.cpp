// The legacy envelope: {method, arguments, tag} in, {result, arguments, tag} out. Errors are a
// "result" string other than "success", as Transmission answers them. A body in 4.1's JSON-RPC
// form goes to jsonrpc.cpp, which runs the same handlers.
#include "rpc/json_limits.h"
#include "rpc/transmission/internal.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace seedbox::rpc::transmission {

namespace {

// A JSON array (after white space and a UTF-8 byte order mark, which the parser skips too): a
// JSON-RPC batch, known before parsing.
bool is_batch(std::string_view body)
{
    if (body.starts_with("\xEF\xBB\xBF"))
        body.remove_prefix(3);
    auto const first = body.find_first_not_of(" \t\r\n");
    return first != std::string_view::npos && body[first] == '[';
}

// A body that cannot be parsed, or is refused before, and names the "jsonrpc" member, which no
// legacy request has: 4.1 answers it with a JSON-RPC error, and so does seedboxd. Any other
// such body gets the legacy answer it always got.
bool mentions_jsonrpc(std::string_view body)
{
    return body.find("\"jsonrpc\"") != std::string_view::npos;
}

std::string legacy(Context& ctx, json const& req)
{
    if (!req.is_object() || !req.contains("method") || !req["method"].is_string())
        return legacy_answer("no method name", json::object(), nullptr);
    json const tag = req.value("tag", json());
    auto const name = req["method"].get<std::string>();
    auto handler = find_method(name);
    if (!handler)
        return legacy_answer("method name not recognized", json::object(), tag);
    json const args = req.contains("arguments") && req["arguments"].is_object() ? req["arguments"]
                                                                                : json::object();
    auto out = run(ctx, handler, name, args);
    return legacy_answer(out.ok ? "success" : out.error, std::move(out.arguments), tag);
}

} // namespace

Handler find_method(std::string const& name)
{
    for (auto const* table : {&session_methods(), &torrent_methods()})
        for (auto const& m : *table)
            if (name == m.name)
                return m.handler;
    return nullptr;
}

std::string legacy_answer(std::string const& result, json arguments, json const& tag)
{
    json out = {{"result", result}, {"arguments", std::move(arguments)}};
    if (tag.is_number_integer()) // Transmission echoes integer tags only
        out["tag"] = tag;
    return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

// A body too deep or too costly to parse is refused before it is parsed.
std::string too_big(Context& ctx, std::string_view body)
{
    auto const& cfg = ctx.config.rpc;
    if (json_depth(body, static_cast<std::size_t>(cfg.max_json_depth)) >
        static_cast<std::size_t>(cfg.max_json_depth))
        return "JSON nested deeper than rpc.max_json_depth";
    if (json_parsed_bytes(body) > static_cast<std::size_t>(cfg.max_body_bytes) * 4)
        return "request too large to parse (4 x rpc.max_body_bytes)";
    return {};
}

Outcome run(Context& ctx, Handler handler, std::string const& name, json const& args)
{
    Outcome out;
    try {
        out.arguments = handler(ctx, args);
        return out;
    } catch (Failure const& f) {
        out.error = f.what();
        out.code = f.code ? *f.code : code_of(out.error);
    } catch (json::exception const& e) {
        // An argument of an unexpected type that a handler read without checking.
        out.error = std::string("invalid argument: ") + e.what();
        out.code = Code::invalid_params;
    } catch (std::exception const& e) {
        spdlog::error("transmission {}: {}", name, e.what());
        out.error = "internal error (the daemon logged it)";
        out.code = Code::internal_error;
    }
    // The client may ignore the result (some libraries do): the log says why it failed.
    spdlog::info("transmission {}: refused: {}", name, out.error);
    out.ok = false;
    out.arguments = json::object();
    return out;
}

void fail(daemon::Error const& e)
{
    throw Failure(e.message, code_of(e.code));
}

std::optional<std::string> respond(Context& ctx, std::string_view body)
{
    try {
        if (is_batch(body))
            return jsonrpc_body(ctx, body);
        if (auto why = too_big(ctx, body); !why.empty()) {
            if (mentions_jsonrpc(body))
                return jsonrpc_body(ctx, body);
            return legacy_answer(why, json::object(), nullptr);
        }
        json const req = json::parse(body, nullptr, false);
        if (req.is_discarded() && mentions_jsonrpc(body))
            return jsonrpc_body(ctx, body); // parses again, for the parser's message
        if (is_jsonrpc(req))
            return jsonrpc_request(ctx, req);
        return legacy(ctx, req);
    } catch (std::exception const& e) { // memory, most likely: handlers' own are caught in run()
        spdlog::error("transmission request: {}", e.what());
    } catch (...) {
        spdlog::error("transmission request: an unknown exception");
    }
    return legacy_answer("internal error (the daemon logged it)", json::object(), nullptr);
}

std::string handle(Context& ctx, std::string_view body)
{
    return respond(ctx, body).value_or(std::string());
}

std::string version_string()
{
    return "4.1.3 (seedboxd " SEEDBOXD_VERSION ")";
}

} // namespace seedbox::rpc::transmission
