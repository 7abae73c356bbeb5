#include "rpc/metrics.h"

#include "daemon/settlement/settlement.h"
#include "daemon/torrent/engine.h"
#include "ledger/ledger.h"
#include "ledger/settlement_store.h"
#include "rpc/method.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <cstdlib>
#include <unordered_map>

namespace seedbox::rpc {

namespace pm = prometheus;

namespace {

pm::Histogram::BucketBoundaries const kLatencyBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                         0.1,   0.25,   0.5,   1,    2.5,   10};

// BTT base units (18 decimals) as BTT. Prometheus values are doubles, so
// this is approximate by nature; ledger.summary has the exact integers.
double btt(tron::Uint256 const& v)
{
    return std::strtod(tron::to_decimal(v).c_str(), nullptr) / 1e18;
}

// Scrape-time families, each declared once with its help and type.
class Families {
public:
    pm::MetricFamily& family(std::string name, std::string help, pm::MetricType type)
    {
        out_.push_back({std::move(name), std::move(help), type, {}});
        return out_.back();
    }
    void gauge(std::string name, std::string help, double value)
    {
        sample(family(std::move(name), std::move(help), pm::MetricType::Gauge), value);
    }
    void counter(std::string name, std::string help, double value)
    {
        sample(family(std::move(name), std::move(help), pm::MetricType::Counter), value);
    }
    static void sample(pm::MetricFamily& f, double value,
                       std::vector<pm::ClientMetric::Label> labels = {})
    {
        pm::ClientMetric m;
        m.label = std::move(labels);
        if (f.type == pm::MetricType::Counter)
            m.counter.value = value;
        else
            m.gauge.value = value;
        f.metric.push_back(std::move(m));
    }
    std::vector<pm::MetricFamily>& out() { return out_; }

private:
    std::vector<pm::MetricFamily> out_;
};

} // namespace

struct RpcMetrics::Impl {
    pm::Registry registry;
    pm::Family<pm::Counter>& requests = pm::BuildCounter()
                                            .Name("seedboxd_rpc_requests_total")
                                            .Help("JSON-RPC calls by method (HTTP and WebSocket)")
                                            .Register(registry);
    pm::Family<pm::Counter>& errors = pm::BuildCounter()
                                          .Name("seedboxd_rpc_errors_total")
                                          .Help("JSON-RPC calls answered with an error, by method "
                                                "and JSON-RPC error code")
                                          .Register(registry);
    pm::Family<pm::Histogram>& latency = pm::BuildHistogram()
                                             .Name("seedboxd_rpc_request_duration_seconds")
                                             .Help("Time spent handling a JSON-RPC call, by method")
                                             .Register(registry);
    pm::Counter& auth_failures = pm::BuildCounter()
                                     .Name("seedboxd_rpc_auth_failures_total")
                                     .Help("Wrong tokens sent to the RPC (HTTP bearer tokens, "
                                           "WebSocket upgrades, auth.login)")
                                     .Register(registry)
                                     .Add({});
    struct PerMethod {
        pm::Counter* requests;
        pm::Histogram* latency;
    };
    std::unordered_map<std::string, PerMethod> methods; // fixed after construction

    PerMethod& of(std::string_view name)
    {
        auto it = methods.find(std::string(name.empty() ? "invalid" : name));
        return it != methods.end() ? it->second : methods.at("unknown");
    }
};

RpcMetrics::RpcMetrics(std::vector<std::string> const& methods) : impl_(std::make_unique<Impl>())
{
    auto names = methods;
    names.emplace_back("unknown");
    names.emplace_back("invalid");
    for (auto const& n : names)
        impl_->methods.emplace(
            n, Impl::PerMethod{&impl_->requests.Add({{"method", n}}),
                               &impl_->latency.Add({{"method", n}}, kLatencyBuckets)});
}

RpcMetrics::~RpcMetrics() = default;

void RpcMetrics::observe(std::string_view method, int error_code, double seconds)
{
    auto& m = impl_->of(method);
    m.requests->Increment();
    m.latency->Observe(seconds);
    if (error_code != 0) {
        auto name = impl_->methods.count(std::string(method)) ? std::string(method)
                    : method.empty()                          ? std::string("invalid")
                                                              : std::string("unknown");
        impl_->errors.Add({{"method", name}, {"code", std::to_string(error_code)}}).Increment();
    }
}

void RpcMetrics::auth_failure()
{
    impl_->auth_failures.Increment();
}

namespace {

void add_build_info(Families& f, Context const& ctx)
{
    auto& info = f.family("seedboxd_build_info", "Versions of seedboxd and libtorrent; always 1",
                          pm::MetricType::Gauge);
    Families::sample(info, 1,
                     {{"version", SEEDBOXD_VERSION}, {"libtorrent", daemon::libtorrent_version()}});
    f.gauge("seedboxd_start_time_seconds", "Unix time the daemon started",
            static_cast<double>(ctx.started_time));
}

// The session's rates and totals, torrents by state, the disk and the alert queue.
void add_session(Families& f, daemon::SessionStats const& stats)
{
    auto d = [](std::int64_t v) { return static_cast<double>(v); };
    f.gauge("seedboxd_session_download_rate_bytes", "Payload download rate, bytes per second",
            d(stats.download_rate));
    f.gauge("seedboxd_session_upload_rate_bytes", "Payload upload rate, bytes per second",
            d(stats.upload_rate));
    f.counter("seedboxd_session_downloaded_bytes_total",
              "Payload bytes downloaded since the daemon started", d(stats.downloaded));
    f.counter("seedboxd_session_uploaded_bytes_total",
              "Payload bytes uploaded since the daemon started", d(stats.uploaded));
    f.gauge("seedboxd_peers_connected", "Peer connections open", d(stats.peers));
    f.gauge("seedboxd_dht_nodes", "Nodes in the DHT routing table", d(stats.dht_nodes));

    // Torrents by state: every state is always present, so a dashboard's series never vanish.
    auto& torrents = f.family("seedboxd_torrents", "Torrents by state", pm::MetricType::Gauge);
    auto by_state = stats.torrents_by_state;
    for (auto const& s : daemon::torrent_states())
        by_state.try_emplace(s, 0);
    for (auto const& [s, n] : by_state)
        Families::sample(torrents, d(n), {{"state", s}});

    // Disk and alert queue
    f.gauge("seedboxd_disk_queued_jobs", "Disk jobs waiting for a disk thread",
            d(stats.disk_queued_jobs));
    f.counter("seedboxd_disk_blocks_read_total", "16 KiB blocks read from disk",
              d(stats.disk_blocks_read));
    f.counter("seedboxd_disk_blocks_written_total", "16 KiB blocks written to disk",
              d(stats.disk_blocks_written));
    f.counter("seedboxd_alerts_handled_total", "libtorrent alerts popped and handled",
              d(stats.alerts_handled));
    f.counter("seedboxd_alerts_dropped_total",
              "Alert types that lost alerts to a full queue (raise bt.alert_queue_size)",
              d(stats.alerts_dropped));
    f.gauge("seedboxd_alerts_last_batch", "Alerts in the most recent pop (queue depth seen)",
            d(stats.alerts_last_batch));
    f.gauge("seedboxd_alert_queue_limit", "bt.alert_queue_size", d(stats.alert_queue_size));

    // The IP filter
    f.gauge("seedboxd_blocklist_rules", "Address ranges the blocklist blocks (0 when it is off)",
            d(stats.blocklist_rules));
    f.gauge("seedboxd_bans", "Entries in the ban list", d(stats.bans));
    f.counter("seedboxd_peers_blocked_total", "Peer connections refused by the IP filter",
              d(stats.peers_blocked));
}

// Payments (btt_pay): uploads and connections by payment class
void add_payments(Families& f, daemon::SessionStats const& stats)
{
    auto d = [](std::int64_t v) { return static_cast<double>(v); };
    if (auto const& p = stats.payments) {
        auto by_class = [&](std::map<std::string, std::int64_t> const& counts, std::string name,
                            std::string help, pm::MetricType type) {
            auto& family = f.family(std::move(name), std::move(help), type);
            for (auto const& [c, n] : counts)
                Families::sample(family, d(n), {{"class", c}});
        };
        by_class(p->uploaded_by_class, "seedboxd_payments_uploaded_bytes_total",
                 "Payload bytes uploaded, by the payment class of the connection (paid, free, "
                 "over_credit_line)",
                 pm::MetricType::Counter);
        by_class(p->peers_by_class, "seedboxd_payments_peers",
                 "Connections by payment class; over_credit_line = peers over their credit line",
                 pm::MetricType::Gauge);
        f.gauge("seedboxd_payments_upload_by_bid",
                "1 while the upload limit binds with payers waiting and peers are served in bid "
                "order (free peers held), else 0",
                p->upload_by_bid ? 1.0 : 0.0);
    }
}

void add_ledger(Families& f, ledger::Summary const& s)
{
    auto d = [](std::int64_t v) { return static_cast<double>(v); };
    f.counter("seedboxd_ledger_uploaded_bytes_total",
              "Payload bytes uploaded to peers, as recorded in the ledger", d(s.bytes_up));
    f.counter("seedboxd_ledger_downloaded_bytes_total",
              "Payload bytes downloaded from peers, as recorded in the ledger", d(s.bytes_down));
    f.counter("seedboxd_ledger_credited_btt_total",
              "Credits accrued for uploads, in BTT (approximate; ledger.summary is exact)",
              btt(s.credits_accrued));
    f.counter("seedboxd_ledger_vouchered_btt_total",
              "Credits covered by payment vouchers, in BTT (approximate)", btt(s.vouchered));
    f.gauge("seedboxd_ledger_unpaid_btt", "Credits not covered by a voucher, in BTT",
            btt(s.unpaid));
    f.counter("seedboxd_ledger_paid_out_btt_total",
              "Vouchers we issued as a payer, in BTT (approximate)", btt(s.paid_out));
    f.counter("seedboxd_ledger_flushes_total", "Ledger flush transactions committed", d(s.flushes));
    f.gauge("seedboxd_ledger_last_flush_timestamp_seconds", "Unix time of the last flush",
            d(s.last_flush_time));
}

void add_settlement(Families& f, daemon::SettlementStatus const& s)
{
    auto& batches = f.family("seedboxd_settlement_batches", "Settlement batches by state",
                             pm::MetricType::Gauge);
    for (auto const& st : ledger::Batch::states()) {
        auto it = s.batches.find(st);
        Families::sample(batches, it == s.batches.end() ? 0 : static_cast<double>(it->second),
                         {{"state", st}});
    }
    f.gauge("seedboxd_settlement_claimable_btt",
            "Vouchered credits not yet in a batch, in BTT (approximate)", btt(s.claimable));
    f.gauge("seedboxd_settlement_pending_btt", "Claims in batches not yet final, in BTT",
            btt(s.pending));
    f.gauge("seedboxd_settlement_paid_btt", "Claims paid on chain, in BTT", btt(s.paid));
    f.gauge("seedboxd_settlement_last_run_timestamp_seconds",
            "Unix time of the last settlement run (0 = never)", static_cast<double>(s.last_run));
    f.gauge("seedboxd_settlement_available",
            "1 when settlement can run (a claim hub and a key are configured)",
            s.unavailable ? 0 : 1);
}

} // namespace

std::string render_metrics(Context& ctx, RpcMetrics const& rpc, ServerFigures const& server)
{
    Families f;
    auto const stats = ctx.engine.session_stats();
    add_build_info(f, ctx);
    add_session(f, stats);
    add_payments(f, stats);

    // RPC server
    f.gauge("seedboxd_rpc_connections", "Open RPC connections (HTTP and WebSocket)",
            static_cast<double>(server.connections));
    f.gauge("seedboxd_websocket_clients", "Open WebSocket connections",
            static_cast<double>(server.ws_clients));

    if (ctx.ledger)
        add_ledger(f, ctx.ledger->summary());
    if (ctx.settlement)
        add_settlement(f, ctx.settlement->status());

    auto families = rpc.impl_->registry.Collect();
    for (auto& fam : f.out())
        families.push_back(std::move(fam));
    return pm::TextSerializer().Serialize(families);
}

} // namespace seedbox::rpc
