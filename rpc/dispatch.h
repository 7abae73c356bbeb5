// JSON-RPC 2.0 dispatcher: parse, envelope, lookup, auth, params, run, shape the answer.
// handle() is thread-safe and synchronous; sessions call it from a worker pool (see Server).
#pragma once

#include "rpc/method.h"

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

private:
    [[nodiscard]] std::optional<json> handle_one(json const& request, Connection& conn);

    MethodTable table_;
    std::unordered_map<std::string, Method const*> index_;
    Context& ctx_;
    Limits limits_;
};

} // namespace seedbox::rpc
