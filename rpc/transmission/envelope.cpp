// The legacy envelope: {method, arguments, tag} in, {result, arguments, tag} out. Errors are a
// "result" string other than "success", as Transmission answers them.
#include "rpc/json_limits.h"
#include "rpc/transmission/internal.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace seedbox::rpc::transmission {

namespace {

Handler find_method(std::string const& name)
{
    for (auto const* table : {&session_methods(), &torrent_methods()})
        for (auto const& m : *table)
            if (name == m.name)
                return m.handler;
    return nullptr;
}

std::string answer(std::string const& result, json arguments, json const& tag)
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

} // namespace

void fail(daemon::Error const& e)
{
    throw Failure(e.message);
}

std::string handle(Context& ctx, std::string_view body)
{
    if (auto why = too_big(ctx, body); !why.empty())
        return answer(why, json::object(), nullptr);
    json req = json::parse(body, nullptr, false);
    if (req.is_discarded() || !req.is_object() || !req.contains("method") ||
        !req["method"].is_string())
        return answer("no method name", json::object(), nullptr);
    json const tag = req.value("tag", json());
    auto const name = req["method"].get<std::string>();
    auto handler = find_method(name);
    if (!handler)
        return answer("method name not recognized", json::object(), tag);
    json const args = req.contains("arguments") && req["arguments"].is_object() ? req["arguments"]
                                                                                : json::object();
    try {
        return answer("success", handler(ctx, args), tag);
    } catch (Failure const& f) {
        return answer(f.what(), json::object(), tag);
    } catch (json::exception const& e) {
        // An argument of an unexpected type that a handler read without checking.
        return answer(std::string("invalid argument: ") + e.what(), json::object(), tag);
    } catch (std::exception const& e) {
        spdlog::error("transmission {}: {}", name, e.what());
        return answer("internal error (the daemon logged it)", json::object(), tag);
    }
}

std::string version_string()
{
    return "4.0.6 (seedboxd " SEEDBOXD_VERSION ")";
}

} // namespace seedbox::rpc::transmission
