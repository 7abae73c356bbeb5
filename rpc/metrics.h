// Prometheus figures for GET /metrics. RPC request counters and latencies are kept live by the
// dispatcher; everything else (session, torrents, peers, disk, alerts, ledger, settlement) is read
// when Prometheus scrapes. The text format is written by prometheus-cpp's TextSerializer.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace seedbox::rpc {

struct Context;

class RpcMetrics {
public:
    // `methods`: the method table's names. Calls to other names count as method="unknown", so a
    // client cannot grow the label set.
    explicit RpcMetrics(std::vector<std::string> const& methods);
    ~RpcMetrics();
    RpcMetrics(RpcMetrics const&) = delete;

    // Thread-safe. `method` empty = the request never named a valid method ("invalid");
    // `error_code` 0 = success, otherwise the JSON-RPC error code.
    void observe(std::string_view method, int error_code, double seconds);
    // Thread-safe. A wrong token (HTTP, WebSocket upgrade or auth.login).
    void auth_failure();

    struct Impl;

private:
    friend std::string render_metrics(Context&, RpcMetrics const&, struct ServerFigures const&);
    std::unique_ptr<Impl> impl_;
};

// What the server knows about its own connections (read on the io thread).
struct ServerFigures {
    std::size_t connections = 0;
    std::size_t ws_clients = 0;
};

// Any thread but the io thread (reads the engine, the ledger and the settlement store).
[[nodiscard]] std::string render_metrics(Context& ctx, RpcMetrics const& rpc,
                                         ServerFigures const& server);

} // namespace seedbox::rpc
