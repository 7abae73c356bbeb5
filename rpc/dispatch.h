// JSON-RPC 2.0 dispatcher: size and depth checks, parse, envelope, lookup, auth, params (types,
// ranges, allowed values), run, shape the answer.
//
// handle() runs quick handlers on the calling thread (an RPC worker). Methods declared
// Runs::slow run on the dispatcher's own slow pool, and handlers that defer (Call::defer) answer
// from wherever their work completes, so nothing slow ever holds an RPC worker. Thread-safe.
#pragma once

#include "rpc/method.h"
#include "rpc/metrics.h"

#include <atomic>
#include <boost/asio/thread_pool.hpp>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

namespace seedbox::rpc {

struct Limits {
    std::size_t max_depth = 32;
    std::size_t max_batch = 100;
    // What a request may cost once parsed (estimated from its text before parsing), in bytes.
    std::size_t max_parsed_bytes = 64u << 20;
    std::size_t slow_workers = 4;
    std::size_t slow_queue = 64; // slow jobs waiting for a thread before callers get -32003
};

class Dispatcher {
public:
    Dispatcher(MethodTable table, Context& ctx, Limits limits);
    ~Dispatcher();
    Dispatcher(Dispatcher const&) = delete;

    // The response text, or nullopt when nothing is to be sent (only notifications). Called
    // exactly once: at once for quick calls, later (from a slow-pool thread or the io thread) for
    // slow and deferred ones. `conn` must stay alive until then.
    using Done = std::function<void(std::optional<std::string>)>;
    void handle(std::string_view body, Connection& conn, Done done);

    // Blocking form (unit tests, tools): waits for deferred answers. Never on the io thread.
    [[nodiscard]] std::optional<std::string> handle(std::string_view body, Connection& conn);

    // At shutdown, once the io thread has stopped: calls no longer answer when their Reply is
    // dropped, and the slow pool finishes its running jobs and drops queued ones.
    void stop();
    // After stop(): waits for the slow jobs still running (before the engine and the ledger they
    // use are closed). Not from a slow job.
    void join();

    [[nodiscard]] MethodTable const& table() const { return table_; }
    [[nodiscard]] Context& context() { return ctx_; }
    [[nodiscard]] RpcMetrics& metrics() { return metrics_; }
    [[nodiscard]] RpcMetrics const& metrics() const { return metrics_; }

private:
    using Answer = Done; // one call's response text (nullopt for a notification)
    void run_one(json request, Connection& conn, Answer answer);
    void invoke(Method const& method, json params, Connection& conn,
                std::shared_ptr<detail::Pending> const& pending);
    [[nodiscard]] bool offload(std::function<void()> job);

    MethodTable table_;
    RpcMetrics metrics_;
    std::unordered_map<std::string, Method const*> index_;
    Context& ctx_;
    Limits limits_;
    std::shared_ptr<std::atomic<bool>> live_ = std::make_shared<std::atomic<bool>>(true);
    std::atomic<std::size_t> slow_queued_{0};
    boost::asio::thread_pool slow_;
};

} // namespace seedbox::rpc
