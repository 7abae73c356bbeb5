// The method table: each JSON-RPC method is declared once (name, summary, params with types and
// help, result, whether it mutates, handler). The dispatcher validates params from it; rpc.discover
// and the README method list are generated from it.
#pragma once

#include "ledger/tron/address.h"
#include "rpc/errors.h"

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace seedbox::config {
struct Config;
}
namespace seedbox::ledger {
class Ledger;
}
namespace seedbox::daemon {
class Engine;
class EventHub;
class Settlement;
} // namespace seedbox::daemon

namespace seedbox::rpc {

using json = nlohmann::json;

enum class Type { string, integer, number, boolean, array, object, string_array, base64, any };

[[nodiscard]] char const* type_name(Type t);
[[nodiscard]] bool type_matches(Type t, json const& v);

struct Param {
    std::string name;
    Type type;
    bool required = false;
    std::string help;
};

// What a call can see of its connection. Implemented by HTTP and WebSocket sessions; methods are
// thread-safe (handlers run on worker threads).
class Connection {
public:
    virtual ~Connection() = default;
    [[nodiscard]] virtual bool websocket() const = 0;
    [[nodiscard]] virtual bool authenticated() const = 0;
    virtual void set_authenticated() = 0;
    // Replace (add=true adds, false removes) the notification methods this connection receives.
    virtual void subscribe(std::vector<std::string> const& events, bool add) = 0;
};

// Everything handlers may use. Outlives every call.
struct Context {
    daemon::Engine& engine;
    config::Config const& config;
    std::string const& token;
    std::int64_t started_time;
    std::vector<struct Method> const* methods = nullptr; // set once the dispatcher exists
    std::optional<tron::Address> wallet;                 // the node's address; never its key
    ledger::Ledger* ledger = nullptr;
    daemon::Settlement* settlement = nullptr;
};

struct Method;

class Call {
public:
    Call(Context& ctx, Connection& conn, Method const& method, json const& params)
        : ctx_(ctx), conn_(conn), method_(method), params_(params)
    {
    }
    [[nodiscard]] Context& ctx() { return ctx_; }
    [[nodiscard]] daemon::Engine& engine() { return ctx_.engine; }
    [[nodiscard]] Connection& connection() { return conn_; }
    [[nodiscard]] json const& params() const { return params_; }
    [[nodiscard]] bool has(std::string const& name) const { return params_.contains(name); }

    // Typed access to a declared param (already type-checked by the dispatcher).
    template <class T> T arg(std::string const& name, T fallback = T{}) const
    {
        auto it = params_.find(name);
        return it == params_.end() || it->is_null() ? fallback : it->template get<T>();
    }

private:
    Context& ctx_;
    Connection& conn_;
    Method const& method_;
    json const& params_;
};

struct Method {
    std::string name;
    std::string summary;
    bool mutates = false;
    std::vector<Param> params;
    json result; // JSON Schema of the result (for rpc.discover)
    std::function<json(Call&)> handler;
    bool websocket_only = false;
    bool public_method = false; // callable on a not-yet-authenticated WebSocket (auth.login)
};

using MethodTable = std::vector<Method>;

// Registration functions, one per namespace (rpc/methods/*.cpp).
void add_system_methods(MethodTable& table);
void add_torrent_methods(MethodTable& table);
void add_session_methods(MethodTable& table);
void add_event_methods(MethodTable& table);
void add_wallet_methods(MethodTable& table);
void add_ledger_methods(MethodTable& table);
void add_settlement_methods(MethodTable& table);

// The settlement service of a call's context (settlement.* and wallet.*).
[[nodiscard]] daemon::Settlement& settlement_of(Call& c);

[[nodiscard]] MethodTable build_method_table();

// OpenRPC 1.2 document describing `table` (rpc/openrpc.cpp).
[[nodiscard]] json openrpc_document(MethodTable const& table);

} // namespace seedbox::rpc
