// JSON-RPC 2.0 dispatcher: parse, envelope, lookup, auth, params, run, shape the answer.
// handle() is thread-safe and synchronous; sessions call it from a worker pool (see Server).
#pragma once

#include "rpc/method.h"
#include "rpc/metrics.h"

#include <optional>
#include <string>
#include <unordered_map>

namespace seedbox::rpc {

struct Limits {
    std::size_t max_depth = 32;
    std::size_t max_batch = 100;
};

class Dispatcher {
public:
    Dispatcher(MethodTable table, Context& ctx, Limits limits);

    // Returns the response text, or nullopt when nothing is to be sent (only notifications).
    [[nodiscard]] std::optional<std::string> handle(std::string_view body, Connection& conn);

    [[nodiscard]] MethodTable const& table() const { return table_; }
    [[nodiscard]] Context& context() { return ctx_; }
    [[nodiscard]] RpcMetrics const& metrics() const { return metrics_; }

private:
    // Times the call and counts it (by method, and by error code when it fails).
    [[nodiscard]] std::optional<json> handle_one(json const& request, Connection& conn);
    // `method` receives the method's name once the request names a known one; `error` the
    // JSON-RPC error code of a failure (also for notifications, which get no answer).
    [[nodiscard]] std::optional<json> run_one(json const& request, Connection& conn,
                                              std::string& method, int& error);

    MethodTable table_;
    RpcMetrics metrics_;
    std::unordered_map<std::string, Method const*> index_;
    Context& ctx_;
    Limits limits_;
};

} // namespace seedbox::rpc
