// Transmission 4.1's JSON-RPC 2.0 form over the legacy handlers, answered as 4.1.3 answers it:
// {"jsonrpc":"2.0","result":{...},"id":..} or {"jsonrpc":"2.0","error":{"code":..,"message":..,
// "data":{"error_string":..}},"id":..}. The method and every name are translated to the legacy
// spelling (names.cpp), the legacy handler runs, and its arguments come back in 4.1's spelling.
// As 4.1, where JSON-RPC 2.0 leaves it open: params that are not an object count as {}; a missing
// or non-string method is "Method not found"; the methods without side effects are not run at
// all when sent as notifications. Unlike 4.1: an empty batch is answered (4.1.3 never answers
// it), a batch holds at most rpc.max_batch requests (4.1 has no limit), and an unparsable body
// gets a JSON-RPC error only when it is a batch or names "jsonrpc" (4.1: always).
#include "rpc/transmission/internal.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

namespace seedbox::rpc::transmission {

namespace {

using daemon::Errc;

constexpr char const* kJsonRpc = "2.0";

// 4.1's fixed message of each code (its JsonRpc::Error::to_string).
std::string_view message_of(Code c)
{
    switch (c) {
    case Code::parse_error:
        return "Parse error";
    case Code::invalid_request:
        return "Invalid Request";
    case Code::method_not_found:
        return "Method not found";
    case Code::invalid_params:
        return "Invalid params";
    case Code::internal_error:
        return "Internal error";
    case Code::set_announce_list:
        return "error setting announce list";
    case Code::invalid_tracker_list:
        return "Invalid tracker list";
    case Code::path_not_absolute:
        return "path is not absolute";
    case Code::unrecognized_info:
        return "unrecognized info";
    case Code::system_error:
        return "system error";
    case Code::file_index_out_of_range:
        return "file index out of range";
    case Code::piece_index_out_of_range:
        return "piece index out of range";
    case Code::http_error:
        return "HTTP error from backend service";
    case Code::corrupt_torrent:
        return "invalid or corrupt torrent file";
    }
    return "Internal error";
}

// `detail` becomes data.error_string unless it is empty or says no more than the message; a
// `data` with nothing in it is left out, as 4.1 leaves it out.
json error_response(Code code, std::string_view detail, json id = nullptr)
{
    json error = {{"code", static_cast<int>(code)}, {"message", message_of(code)}};
    if (!detail.empty() && detail != message_of(code))
        error["data"] = {{"error_string", detail}};
    return {{"jsonrpc", kJsonRpc}, {"error", std::move(error)}, {"id", std::move(id)}};
}

std::string dump(json const& j)
{
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// JSON-RPC 2.0: "a String, Number, or NULL value"; 4.1 takes fractions too.
bool valid_id(json const& id)
{
    return id.is_string() || id.is_number() || id.is_null();
}

// The methods 4.1 marks as without side effects: sent as notifications, they are not run.
bool read_only(std::string_view method)
{
    static constexpr std::array<std::string_view, 6> kReadOnly = {
        "free_space", "group_get", "port_test", "session_get", "session_stats", "torrent_get"};
    return std::find(kReadOnly.begin(), kReadOnly.end(), method) != kReadOnly.end();
}

// 4.1's torrent_get refuses fields that name nothing it knows; 4.0's, which the legacy handler
// follows, answers with empty objects.
bool names_no_field(json const& params)
{
    auto const f = params.find("fields");
    return f != params.end() && f->is_array() &&
           std::none_of(f->begin(), f->end(), [](json const& name) {
               return name.is_string() && known_torrent_field(name.get_ref<std::string const&>());
           });
}

// One call whose envelope is valid: nothing when it is a notification.
std::optional<json> run_call(Context& ctx, json const& req, std::optional<json> const& id)
{
    auto const m = req.find("method");
    auto const method = m != req.end() && m->is_string() ? m->get<std::string>() : std::string();
    auto const legacy = legacy_name(method, false); // a legacy method name is not a method here
    auto const handler = legacy ? find_method(std::string(*legacy)) : nullptr;
    if (!handler)
        return id ? std::optional<json>(error_response(Code::method_not_found, {}, *id))
                  : std::nullopt;
    if (!id && read_only(method))
        return std::nullopt;
    auto const p = req.find("params");
    auto const params =
        p != req.end() && p->is_object() ? legacy_params(*p, method) : json::object();
    if (method == "torrent_get" && names_no_field(params)) // never a notification here
        return error_response(Code::invalid_params, "no fields specified", id.value_or(nullptr));
    auto out = run(ctx, handler, std::string(*legacy), params);
    if (!id)
        return std::nullopt;
    if (!out.ok)
        return error_response(out.code, out.error, *id);
    return json{
        {"jsonrpc", kJsonRpc}, {"result", current_result(std::move(out.arguments))}, {"id", *id}};
}

// One request, alone or from a batch, in 4.1's order of checks.
std::optional<json> call(Context& ctx, json const& req, bool in_batch)
{
    if (!req.is_object())
        return error_response(Code::invalid_request, in_batch
                                                         ? "request must be an Object"
                                                         : "request must be an Array or Object");
    auto const v = req.find("jsonrpc");
    if (v == req.end() || *v != kJsonRpc)
        return error_response(Code::invalid_request, "JSON-RPC version is not 2.0");
    std::optional<json> id;
    if (auto const i = req.find("id"); i != req.end()) {
        if (!valid_id(*i))
            return error_response(Code::invalid_request, "id type must be String, Number, or Null");
        id = *i;
    }
    try {
        return run_call(ctx, req, id);
    } catch (std::exception const& e) { // memory, most likely: handlers' own are caught in run()
        spdlog::error("transmission JSON-RPC call: {}", e.what());
        return error_response(Code::internal_error, {}, id.value_or(nullptr));
    }
}

std::optional<std::string> batch(Context& ctx, json const& requests)
{
    auto const limit =
        static_cast<std::size_t>(std::max<std::int64_t>(ctx.config.rpc.max_batch, 1));
    if (requests.empty()) // JSON-RPC 2.0 says so; 4.1.3 never answers
        return dump(error_response(Code::invalid_request, {}));
    if (requests.size() > limit)
        return dump(
            error_response(Code::invalid_request, "a batch of " + std::to_string(requests.size()) +
                                                      " requests; the limit is " +
                                                      std::to_string(limit) + " (rpc.max_batch)"));
    json out = json::array();
    for (auto const& req : requests)
        if (auto answer = call(ctx, req, true))
            out.push_back(std::move(*answer));
    if (out.empty())
        return std::nullopt;
    return dump(out);
}

} // namespace

bool is_jsonrpc(json const& request)
{
    if (!request.is_object())
        return false;
    auto const v = request.find("jsonrpc");
    return v != request.end() && v->is_string();
}

std::optional<std::string> jsonrpc_request(Context& ctx, json const& request)
{
    auto answer = call(ctx, request, false);
    if (!answer)
        return std::nullopt;
    return dump(*answer);
}

std::optional<std::string> jsonrpc_body(Context& ctx, std::string_view body)
{
    if (auto why = too_big(ctx, body); !why.empty())
        return dump(error_response(Code::invalid_request, why));
    json doc;
    try {
        doc = json::parse(body);
    } catch (json::exception const& e) { // a syntax error, or a number out of range
        return dump(error_response(Code::parse_error, e.what()));
    }
    if (doc.is_array())
        return batch(ctx, doc);
    return jsonrpc_request(ctx, doc);
}

Code code_of(Errc e)
{
    switch (e) {
    case Errc::invalid_metainfo:
    case Errc::invalid_magnet:
        return Code::unrecognized_info;
    case Errc::fetch_failed:
        return Code::http_error;
    case Errc::invalid_file_index:
        return Code::file_index_out_of_range;
    case Errc::invalid_tracker:
        return Code::invalid_tracker_list;
    case Errc::torrent_not_found:
    case Errc::path_not_allowed:
    case Errc::url_add_disabled:
    case Errc::invalid_argument:
    case Errc::no_metadata:
        return Code::invalid_params;
    default: // the disk, the database, the daemon stopping: 4.1's "system error"
        return Code::system_error;
    }
}

Code code_of(std::string_view message)
{
    // 4.1's own phrases for a legacy server's error strings (api-compat's guess_error_code), which
    // seedboxd's handlers share with Transmission 4.0, and the errors 4.1's handlers raise with
    // -32602 that 4.0 worded the same.
    static constexpr std::array<std::pair<std::string_view, Code>, 15> kPhrases = {{
        {"absolute", Code::path_not_absolute},
        {"couldn't fetch blocklist", Code::http_error},
        {"couldn't save", Code::system_error},
        {"couldn't test port", Code::http_error},
        {"file index out of range", Code::file_index_out_of_range},
        {"invalid ip protocol", Code::invalid_params},
        {"invalid or corrupt torrent", Code::corrupt_torrent},
        {"invalid tracker list", Code::invalid_tracker_list},
        {"labels cannot", Code::invalid_params},
        {"no filename or metainfo specified", Code::invalid_params},
        {"no location", Code::invalid_params},
        {"torrent-rename-path requires 1 torrent", Code::invalid_params},
        {"unrecognized info", Code::unrecognized_info},
        {"no fields specified", Code::invalid_params},
        {"directory path argument is missing", Code::invalid_params},
    }};
    std::string lower(message);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    for (auto const& [phrase, code] : kPhrases)
        if (lower.find(phrase) != std::string::npos)
            return code;
    // seedboxd's own refusals: an argument it cannot take, or a feature it does not have.
    return Code::invalid_params;
}

} // namespace seedbox::rpc::transmission
