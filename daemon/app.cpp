#include "daemon/app.h"

#include "config/password_hash.h"

#include "daemon/base/events.h"
#include "daemon/base/paths.h"
#include "daemon/btt_pay/accounting.h"
#include "daemon/btt_pay/payments.h"
#include "daemon/ledger_service.h"
#include "daemon/notify.h"
#include "daemon/payments_setup.h"
#include "daemon/reload.h"
#include "daemon/settlement/settlement.h"
#include "daemon/state_lock.h"
#include "daemon/torrent/engine.h"
#include "daemon/watch_dir.h"
#include "ledger/key_file.h"
#include "ledger/ledger.h"
#include "ledger/state_store.h"
#include "rpc/auth.h"
#include "rpc/dispatch.h"
#include "rpc/notification.h"
#include "rpc/server.h"
#include "rpc/static_files.h"
#include "rpc/transmission/transmission.h"
#include "rpc/tron_transport.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

namespace seedbox::daemon {

namespace fs = std::filesystem;

namespace {

// Writes atomically (temp + rename) so a reader never sees a partial address; mode 0644 whatever
// the umask (an address is no secret, but nobody else may change it).
bool write_ready_file(std::string const& path, std::string const& text)
{
    auto tmp = path + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return false;
    auto const line = text + "\n";
    bool ok = ::fchmod(fd, 0644) == 0 &&
              ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
    ok = ::close(fd) == 0 && ok;
    return ok && std::rename(tmp.c_str(), path.c_str()) == 0;
}

// Creates the state directory 0700 whatever the umask (it holds the token, the key and the
// ledger); an existing one is tightened to 0700.
std::string make_state_dir(std::string const& dir)
{
    std::error_code ec;
    auto const parent = fs::absolute(dir, ec).parent_path();
    fs::create_directories(parent, ec);
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
        return std::strerror(errno);
    if (::chmod(dir.c_str(), 0700) != 0)
        return std::strerror(errno);
    return {};
}

std::int64_t unix_now()
{
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// The RPC token: rpc.token, or read from (or created in) rpc.token_file. A non-loopback bind
// needs one that exists or rpc.generate_token. Logs why and returns nullopt when there is none.
std::optional<std::string> rpc_token(config::Config const& cfg, config::Endpoint const& bind)
{
    std::string token = cfg.rpc.token;
    if (!token.empty()) {
        if (token.size() < 16) {
            spdlog::critical("rpc.token must be at least 16 characters");
            return std::nullopt;
        }
        return token;
    }
    std::error_code ec;
    bool exists = fs::exists(cfg.rpc.token_file, ec);
    if (!exists && !rpc::is_loopback_host(bind.host) && !cfg.rpc.generate_token) {
        spdlog::critical("refusing to listen on non-loopback {} without a token: set rpc.token, "
                         "create {} (0600) first, or set rpc.generate_token=true",
                         cfg.rpc.bind, cfg.rpc.token_file);
        return std::nullopt;
    }
    bool created = false;
    if (auto err = rpc::load_or_create_token(cfg.rpc.token_file, token, created); !err.empty()) {
        spdlog::critical("{}", err);
        return std::nullopt;
    }
    spdlog::info("RPC token {} {}", created ? "generated in" : "read from", cfg.rpc.token_file);
    return token;
}

// state.db, with the session settings changed over RPC forgotten when asked to.
std::unique_ptr<ledger::StateStore> open_state(config::Config const& cfg, RunOptions const& opts)
{
    std::string err;
    auto store = ledger::StateStore::open((fs::path(cfg.state_dir) / "state.db").string(), err);
    if (!store) {
        spdlog::critical("{}", err);
        return nullptr;
    }
    if (opts.reset_session_settings) {
        std::string const empty = "{}";
        auto reset_err = store->wait([&](auto done) {
            store->put_blob("settings", ledger::Blob(empty.begin(), empty.end()), std::move(done));
        });
        if (!reset_err.empty()) {
            spdlog::critical("cannot reset the stored session settings: {}", reset_err);
            return nullptr;
        }
        spdlog::warn("session settings changed over RPC are forgotten "
                     "(--reset-session-settings): the configuration's values apply");
    }
    return store;
}

// settlement.mode=broadcast: the TRON node transport (with the API key from its file). Offline:
// an empty transport. nullopt after logging why it cannot be made.
std::optional<NodeTransport> node_transport(config::Config const& cfg)
{
    if (cfg.settlement.mode != "broadcast")
        return NodeTransport{};
    if (cfg.tron.node_url.empty()) {
        spdlog::critical("settlement.mode=broadcast needs tron.node_url");
        return std::nullopt;
    }
    std::string api_key;
    if (!cfg.tron.api_key_file.empty()) {
        std::ifstream f(cfg.tron.api_key_file);
        if (!f || !std::getline(f, api_key) || api_key.empty()) {
            spdlog::critical("cannot read a TRON-PRO-API-KEY from tron.api_key_file {}",
                             cfg.tron.api_key_file);
            return std::nullopt;
        }
        while (!api_key.empty() && std::isspace(static_cast<unsigned char>(api_key.back())))
            api_key.pop_back();
    }
    return rpc::make_node_transport(cfg.tron.node_url, cfg.tron.solidity_url, api_key);
}

// Feeds systemd's watchdog from the io thread, so a wedged event loop gets the service restarted.
void feed_watchdog(boost::asio::steady_timer& timer, Notifier& notifier)
{
    notifier.send("WATCHDOG=1");
    timer.expires_after(*notifier.watchdog_interval());
    timer.async_wait([&timer, &notifier](boost::system::error_code ec) {
        if (!ec)
            feed_watchdog(timer, notifier);
    });
}

// What the signal handlers act on, all owned by run_app's frame. Io thread only.
struct Running {
    config::Config const& cfg;
    RunOptions const& opts;
    boost::asio::io_context& io;
    boost::asio::signal_set& signals;
    boost::asio::signal_set& hup;
    boost::asio::steady_timer& watchdog;
    boost::asio::steady_timer& deadline;
    Notifier& notifier;
    Engine& engine;
    WatchDir& watch;
    rpc::Server& server;
    LedgerService& ledger_service;
    std::function<std::string()> serving_status;
    config::Config current; // the running configuration, as reloads change it
    bool stopping = false;  // set once SIGINT/SIGTERM starts the shutdown
};

// SIGHUP: read the configuration again and apply what can change while running.
void wait_hup(Running& r)
{
    r.hup.async_wait([&r](boost::system::error_code ec, int) {
        if (ec)
            return;
        r.notifier.send("RELOADING=1\nMONOTONIC_USEC=" +
                        std::to_string(Notifier::monotonic_usec()));
        // Off the io thread: applying settings stores them (a SQLite commit) and waits on
        // libtorrent. The next SIGHUP is awaited once this one is done, so reloads never
        // overlap; a signal meanwhile stays pending in the signal_set.
        r.server.post_to_workers([&r] {
            reload(r.current, r.opts.reload, r.engine, r.watch);
            r.notifier.send("READY=1\n" + r.serving_status());
            boost::asio::post(r.io, [&r] {
                if (!r.stopping)
                    wait_hup(r);
            });
        });
    });
}

// SIGINT/SIGTERM: stop taking work, save resume data and the ledger, and leave io.run() within
// state.shutdown_timeout + 5 s whatever libtorrent does.
void start_shutdown(Running& r, int sig)
{
    r.stopping = true;
    spdlog::info("signal {}: shutting down", sig);
    r.notifier.send("STOPPING=1\nSTATUS=saving resume data and the ledger");
    r.hup.cancel();
    r.watchdog.cancel();
    r.watch.configure({}, std::chrono::seconds(1)); // no more adds; joined below
    r.server.stop();
    r.ledger_service.stop();
    r.engine.shutdown([&r] {
        r.deadline.cancel();
        r.signals.cancel();
        r.io.stop();
    });
    // Backstop in case libtorrent never answers: the process must exit in bounded time.
    r.deadline.expires_after(std::chrono::seconds(r.cfg.state.shutdown_timeout + 5));
    r.deadline.async_wait([&r](boost::system::error_code ec) {
        if (!ec) {
            spdlog::error("shutdown did not finish in time; exiting anyway");
            r.io.stop();
        }
    });
}

void wait_signal(Running& r)
{
    r.signals.async_wait([&r](boost::system::error_code ec, int sig) {
        if (ec)
            return;
        if (r.stopping)
            spdlog::warn("signal {} again: still saving state, please wait", sig);
        else
            start_shutdown(r, sig);
        wait_signal(r);
    });
}

// An exception escaping a handler would end io.run(); the sessions guard their own, so this is
// the last line of defence: log it and keep serving.
void run_io(boost::asio::io_context& io)
{
    for (;;) {
        try {
            io.run();
            return;
        } catch (std::exception const& e) {
            spdlog::error("unexpected error on the io thread (kept running): {}", e.what());
        }
    }
}

// Takes the state directory: created 0700 and locked against a second daemon, before anything
// in it is read (a second daemon would load the same torrents and ledger, announce them twice
// and overwrite rpc.address). Logs why and returns nullopt on failure.
std::optional<StateLock> take_state_dir(config::Config const& cfg)
{
    if (auto why = make_state_dir(cfg.state_dir); !why.empty()) {
        spdlog::critical("cannot create state directory {}: {}", cfg.state_dir, why);
        return std::nullopt;
    }
    std::string lock_error;
    auto lock = StateLock::acquire(cfg.state_dir, lock_error);
    if (!lock.held()) {
        spdlog::critical("{}", lock_error);
        return std::nullopt;
    }
    return lock;
}

// web.root, when set: an existing directory (checked again at every request), and
// Transmission's RPC on, since the web client talks to nothing else. Error text or empty.
std::string check_web_root(config::Config const& cfg)
{
    if (cfg.web.root.empty())
        return {};
    if (!cfg.transmission.enabled)
        return "web.root is set but transmission.enabled is false: Transmission's web client "
               "needs Transmission's RPC at /transmission/rpc";
    return rpc::web::check_root(cfg.web.root);
}

std::unique_ptr<ledger::Ledger> open_ledger(config::Config const& cfg)
{
    std::string err;
    auto ledger = ledger::Ledger::open((fs::path(cfg.state_dir) / "ledger.db").string(), err);
    if (!ledger)
        spdlog::critical("{}", err);
    return ledger;
}

} // namespace

// Wires every part together in order, then serves until a signal; each step that can fail
// logs why and returns 1. Long because it is the one place that owns every part's lifetime.
int run_app(config::Config const& cfg, RunOptions const& opts)
{
    auto const state_lock = take_state_dir(cfg);
    if (!state_lock)
        return 1;
    auto bind = config::parse_endpoint(cfg.rpc.bind);
    auto token = rpc_token(cfg, *bind);
    if (!token)
        return 1;
    auto key = ledger::load_or_create_key(cfg.tron.key_file, cfg.tron.generate_key);
    if (!key.error.empty()) {
        spdlog::critical("{}", key.error);
        return 1;
    }
    std::optional<tron::Address> wallet;
    if (key.key) {
        wallet = key.key->address();
        spdlog::info("TRON address {} (key {} {})", wallet->base58(),
                     key.created ? "generated in" : "read from", cfg.tron.key_file);
    } else {
        spdlog::info("no TRON key at {}: wallet and payments are off", cfg.tron.key_file);
    }
    auto store = open_state(cfg, opts);
    if (!store)
        return 1;
    auto ledger = open_ledger(cfg);
    if (!ledger)
        return 1;
    auto amounts = payment_amounts(cfg);
    if (!amounts)
        return 1;
    auto node = node_transport(cfg);
    if (!node)
        return 1;
    boost::asio::io_context io(1);
    // Installed before anything announces readiness (the ready file, rpc.address, READY=1): a
    // signal right after those is queued here and handled below, never the default action that
    // kills the process without saving anything.
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    boost::asio::signal_set hup(io, SIGHUP);
    EventHub events(io, rpc::notification_text);
    std::shared_ptr<Payments> payments;
    if (key.key && cfg.ledger.accounting &&
        !make_payments(cfg, *key.key, *ledger, *amounts, events, payments))
        return 1;
    auto accounting = cfg.ledger.accounting ? std::make_shared<Accounting>() : nullptr;
    if (!accounting)
        spdlog::warn("ledger.accounting is off: no per-peer counts, no payments");
    if (auto e = check_label_paths(cfg); !e.empty()) {
        spdlog::critical("{}", e);
        return 1;
    }
    if (auto e = check_web_root(cfg); !e.empty()) {
        spdlog::critical("{}", e);
        return 1;
    }
    Notifier notifier;
    notifier.send("STATUS=opening state");
    Engine engine(io, cfg, *store, events, accounting, payments);
    // libtorrent's session opens on a thread of its own while the rest is set up (engine.start).
    if (auto e = engine.open(); !e.empty()) {
        spdlog::critical("{}", e);
        return 1;
    }
    LedgerService ledger_service(io, *ledger, accounting, amounts->price,
                                 std::chrono::seconds(cfg.ledger.flush_interval), events);

    Settlement settlement(cfg, *ledger, key.key, events, *node);
    rpc::Context ctx{engine, cfg, *token, unix_now(), nullptr, wallet, ledger.get(), &settlement};
    ctx.net = io.get_executor();
    rpc::Dispatcher dispatcher(rpc::build_method_table(), ctx,
                               {static_cast<std::size_t>(cfg.rpc.max_json_depth),
                                static_cast<std::size_t>(cfg.rpc.max_batch),
                                4 * static_cast<std::size_t>(cfg.rpc.max_body_bytes),
                                static_cast<std::size_t>(cfg.rpc.slow_workers)});
    ctx.methods = &dispatcher.table();
    rpc::AuthBrake brake({static_cast<int>(cfg.rpc.auth_failures)},
                         [&dispatcher] { dispatcher.metrics().auth_failure(); });
    ctx.brake = &brake;
    rpc::Server server(io, dispatcher, events, cfg.rpc, *token, brake);
    ctx.quick = [&server](std::function<void()> job) { server.post_to_workers(std::move(job)); };
    if (cfg.transmission.enabled)
        server.serve_transmission([&ctx](std::string body, rpc::transmission::Answer done) {
            rpc::transmission::respond_async(ctx, std::move(body), std::move(done));
        });
    if (!cfg.web.root.empty())
        server.serve_web(cfg.web.root);
    if (std::string why; !cfg.transmission.password.empty())
        server.accept_transmission_password(
            *config::parse_password_hash(cfg.transmission.password, why)); // checked on load
    if (auto e = engine.start([&notifier](std::string const& s) {
            spdlog::info("{}", s);
            notifier.send("STATUS=" + s);
        });
        !e.empty()) {
        spdlog::critical("{}", e);
        return 1;
    }
    std::string err;
    auto bound = server.listen(*bind, err);
    if (bound.empty()) {
        spdlog::critical("{}", err);
        engine.shutdown([&io] { io.stop(); });
        io.run();
        return 1;
    }
    ledger_service.start();
    settlement.start();
    spdlog::info("JSON-RPC listening on http://{}/rpc (WebSocket on the same path)", bound);
    if (!cfg.web.root.empty())
        spdlog::info("web client (web.root {}) at http://{}/transmission/web/", cfg.web.root,
                     bound);
    if (!opts.ready_file.empty() && !write_ready_file(opts.ready_file, bound)) {
        spdlog::critical("cannot write ready file {}: {}", opts.ready_file, std::strerror(errno));
        return 1;
    }
    // For seedboxctl and scripts on this machine: where the RPC listens (the token is beside it).
    if (!write_ready_file((fs::path(cfg.state_dir) / "rpc.address").string(), "http://" + bound))
        spdlog::warn("cannot write {}/rpc.address: {}", cfg.state_dir, std::strerror(errno));
    auto serving_status = [&] {
        return "STATUS=serving " + std::to_string(engine.session_stats().torrents) +
               " torrents; RPC on " + bound;
    };
    notifier.send("READY=1\n" + serving_status());
    WatchDir watch(engine);
    watch.configure(cfg.watch.dir, std::chrono::seconds(cfg.watch.interval));
    boost::asio::steady_timer watchdog(io);
    if (notifier.watchdog_interval())
        feed_watchdog(watchdog, notifier);
    boost::asio::steady_timer deadline(io);
    Running running{cfg,
                    opts,
                    io,
                    signals,
                    hup,
                    watchdog,
                    deadline,
                    notifier,
                    engine,
                    watch,
                    server,
                    ledger_service,
                    serving_status,
                    cfg};
    wait_hup(running);
    wait_signal(running);
    run_io(io);

    watch.stop();
    dispatcher.stop(); // queued slow jobs are dropped; dropped calls no longer answer
    settlement.stop(); // ends the chain waits of running wallet calls
    server.join_workers();
    dispatcher.join(); // running slow jobs end (torrent.create stops hashing at shutdown)
    engine.close();    // peers disconnect: their last byte counts reach the ledger below
    ledger_service.final_flush();
    spdlog::info("seedboxd stopped");
    return 0;
}

} // namespace seedbox::daemon
