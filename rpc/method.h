// The method table: each JSON-RPC method is declared once (name, summary, params with types,
// ranges, allowed values, defaults and help, result, whether it mutates, where it runs, handler).
// The dispatcher validates params from it; rpc.discover and the README method list are generated
// from it.
#pragma once

#include "ledger/tron/address.h"
#include "rpc/errors.h"

#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
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
enum class Event;
class Torrents;
class EventHub;
class Settlement;
} // namespace seedbox::daemon

namespace seedbox::rpc {

using json = nlohmann::json;

enum class Type { string, integer, number, boolean, array, object, string_array, base64, any };

[[nodiscard]] char const* type_name(Type t);
[[nodiscard]] bool type_matches(Type t, json const& v);

// One named param. Every integer param declares its range; the dispatcher refuses a value outside
// it (-32602 naming the range) before the handler runs, so 2^64-1 never reaches a handler as -1.
struct Param {
    std::string name;
    Type type;
    bool required = false;
    std::string help{};
    std::optional<std::int64_t> min{}; // integer and number params: inclusive bounds
    std::optional<std::int64_t> max{};
    std::vector<std::string> choices{}; // string params (and string_array elements): allowed values
    json fallback{};             // the value when absent (null: none); rpc.discover's default
    std::vector<Param> fields{}; // object params, and array params whose elements are such objects
    bool or_string = false;      // array of objects: an element may instead be a plain string

    [[nodiscard]] Param range(std::int64_t lo, std::int64_t hi) &&
    {
        min = lo;
        max = hi;
        return std::move(*this);
    }
    [[nodiscard]] Param one_of(std::vector<std::string> values) &&
    {
        choices = std::move(values);
        return std::move(*this);
    }
    [[nodiscard]] Param defaults_to(json value) &&
    {
        fallback = std::move(value);
        return std::move(*this);
    }
    [[nodiscard]] Param of(std::vector<Param> members, bool strings_too = false) &&
    {
        fields = std::move(members);
        or_string = strings_too;
        return std::move(*this);
    }
};

// Checks `value` against `p` (type, range, choices, members); empty when it fits, else a message
// naming the param (`where` is its path, e.g. "files[2].priority").
[[nodiscard]] std::string check_param(Param const& p, json const& value, std::string const& where);

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
    // The peer's IP address as text ("" when unknown); what wrong-token brakes are keyed on.
    [[nodiscard]] virtual std::string remote_address() const { return {}; }
    // A failed auth.login on this connection (WebSocket: closed after a few).
    virtual void login_failed() {}
};

class AuthBrake;

// Everything handlers may use. Outlives every call.
struct Context {
    daemon::Torrents& engine; // the torrent engine, behind its interface (a fake in unit tests)
    config::Config const& config;
    std::string const& token;
    std::int64_t started_time;
    std::vector<struct Method> const* methods = nullptr; // set once the dispatcher exists
    std::optional<tron::Address> wallet;                 // the node's address; never its key
    ledger::Ledger* ledger = nullptr;
    daemon::Settlement* settlement = nullptr;
    // Where asynchronous network work (URL fetches) runs: the io thread's executor. Unset in unit
    // tests, where such methods answer with an internal error.
    std::optional<boost::asio::any_io_executor> net{};
    AuthBrake* brake = nullptr; // wrong-token accounting (auth.login); null = none
    // Runs a slow job (a file read, a chain wait) off the RPC workers; false when its queue is
    // full. Set by the dispatcher.
    std::function<bool(std::function<void()>)> offload{};
    // Runs a quick job on the RPC workers (the add that follows a URL fetch or a file read), so it
    // never waits behind slow jobs. Set by the server; unset, quick jobs go to `offload`.
    std::function<void(std::function<void()>)> quick{};
};

struct Method;

namespace detail {
struct Pending;
}

// The answer to one call that was deferred (Call::defer). Copyable; the first result() or
// error() wins and later ones are ignored; any thread. A Reply dropped without an answer answers
// with an internal error, so a client never waits forever.
class Reply {
public:
    Reply() = default;
    explicit Reply(std::shared_ptr<detail::Pending> p) : p_(std::move(p)) {}
    void result(json value) const;
    void error(RpcError const& e) const;
    // Runs `fn` and answers with what it returns or throws (RpcError, or -32603 for anything else).
    void answer(std::function<json()> const& fn) const;

private:
    std::shared_ptr<detail::Pending> p_;
};

class Call {
public:
    Call(Context& ctx, Connection& conn, Method const& method, json params)
        : ctx_(ctx), conn_(conn), method_(method), params_(std::move(params))
    {
    }
    [[nodiscard]] Context& ctx() { return ctx_; }
    [[nodiscard]] daemon::Torrents& engine() { return ctx_.engine; }
    [[nodiscard]] Connection& connection() { return conn_; }
    [[nodiscard]] json const& params() const { return params_; }
    [[nodiscard]] bool has(std::string const& name) const { return params_.contains(name); }

    // Typed access to a declared param (already checked by the dispatcher); when absent, the
    // declared default, else `fallback`. A name the method does not declare is a bug in the
    // handler: std::logic_error (the caller gets -32603, the log names the param).
    template <class T> T arg(std::string const& name, T fallback = T{}) const
    {
        auto const& p = declared(name);
        auto it = params_.find(name);
        if (it != params_.end() && !it->is_null())
            return it->template get<T>();
        return p.fallback.is_null() ? fallback : p.fallback.template get<T>();
    }

    // The handler will answer later (its return value is ignored): it hands the Reply to work
    // that completes off the RPC workers. Call at most once, from the handler.
    [[nodiscard]] Reply defer();
    [[nodiscard]] bool deferred() const { return deferred_.has_value(); }
    // The result as JSON text, written by the handler (JsonText) rather than built as a tree; the
    // handler's return value is then ignored. The text must be one valid JSON value.
    void answer_text(std::string result) { text_ = std::move(result); }
    [[nodiscard]] std::optional<std::string>& text() { return text_; }
    [[nodiscard]] Reply const& reply() const { return *deferred_; }
    void set_pending(std::shared_ptr<detail::Pending> p) { pending_ = std::move(p); }

private:
    [[nodiscard]] Param const& declared(std::string const& name) const;

    Context& ctx_;
    Connection& conn_;
    Method const& method_;
    json params_;
    std::shared_ptr<detail::Pending> pending_;
    std::optional<Reply> deferred_;
    std::optional<std::string> text_;
};

// Where a handler runs. `worker`: on an RPC worker, and it must be quick (no network, no waiting
// for the chain, no unbounded disk work). `slow`: on the slow pool (rpc.slow_workers), for
// handlers that block by nature (hashing a folder, waiting for a transaction); the RPC workers
// stay free.
enum class Runs { worker, slow };

struct Method {
    std::string name;
    std::string summary;
    bool mutates = false;
    std::vector<Param> params{};
    json result{}; // JSON Schema of the result (for rpc.discover)
    std::function<json(Call&)> handler{};
    bool websocket_only = false;
    bool public_method = false; // callable on a not-yet-authenticated WebSocket (auth.login)
    Runs runs = Runs::worker;
};

using MethodTable = std::vector<Method>;

// Registration functions, one per namespace (rpc/methods/*.cpp).
void add_system_methods(MethodTable& table);
void add_torrent_methods(MethodTable& table);
void add_session_methods(MethodTable& table);
void add_blocklist_methods(MethodTable& table);
void add_label_methods(MethodTable& table);
void add_event_methods(MethodTable& table);
void add_wallet_methods(MethodTable& table);
void add_ledger_methods(MethodTable& table);
void add_settlement_methods(MethodTable& table);

// The settlement service of a call's context (settlement.* and wallet.*).
[[nodiscard]] daemon::Settlement& settlement_of(Call& c);

[[nodiscard]] MethodTable build_method_table();

// Refuses a table that promises what it cannot keep: a method name given twice, a param name
// given twice in one method, an integer param without a range, a result without a schema type.
// Throws std::logic_error naming the method; the Dispatcher runs it on its table.
void check_method_table(MethodTable const& table);

// The event table (rpc/methods/events.cpp): one row per daemon::Event, with its payload schema;
// rpc.discover publishes it as components.x-events. check_event_table() throws std::logic_error
// when an Event has no row or two.
struct EventKind {
    daemon::Event event;
    char const* summary = "";
    json payload;
};
[[nodiscard]] std::vector<EventKind> const& event_table();
void check_event_table();

// OpenRPC 1.2 document describing `table` (rpc/openrpc.cpp).
[[nodiscard]] json openrpc_document(MethodTable const& table);
// The JSON Schema of one param: type, bounds, enum, default, members.
[[nodiscard]] json param_schema(Param const& p);

} // namespace seedbox::rpc
