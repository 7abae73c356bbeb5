#include "daemon/app.h"

#include "daemon/base/events.h"
#include "daemon/base/paths.h"
#include "daemon/btt_pay/accounting.h"
#include "daemon/btt_pay/payments.h"
#include "daemon/ledger_service.h"
#include "daemon/notify.h"
#include "daemon/settlement/settlement.h"
#include "daemon/state_lock.h"
#include "daemon/torrent/engine.h"
#include "daemon/watch_dir.h"
#include "ledger/key_file.h"
#include "ledger/ledger.h"
#include "ledger/state_store.h"
#include "rpc/auth.h"
#include "rpc/dispatch.h"
#include "rpc/server.h"
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

// Keys whose value differs between two configurations ("bt.upload_rate_limit", ...).
std::vector<std::string> changed_keys(config::Config const& a, config::Config const& b)
{
    auto fa = config::to_json(a).flatten();
    auto fb = config::to_json(b).flatten();
    std::vector<std::string> out;
    for (auto const& [k, v] : fb.items())
        if (!fa.contains(k) || fa[k] != v)
            out.push_back(k);
    for (auto const& [k, v] : fa.items())
        if (!fb.contains(k))
            out.push_back(k);
    for (auto& k :
         out) { // "/bt/upload_rate_limit" or "/rpc/allowed_hosts/0" -> "bt.upload_rate_limit"
        auto parts = k.substr(1);
        std::string key;
        std::size_t pos = 0;
        int depth = 0;
        while (pos <= parts.size() && depth < 2) {
            auto next = parts.find('/', pos);
            auto seg =
                parts.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
            if (!seg.empty() && std::isdigit(static_cast<unsigned char>(seg[0])))
                break;
            key += (key.empty() ? "" : ".") + seg;
            ++depth;
            if (next == std::string::npos)
                break;
            pos = next + 1;
        }
        k = key;
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

// Every label's move_on_complete must lie inside torrent.allowed_roots, like any API path (it is
// created if missing). Error text or empty.
std::string check_label_paths(config::Config const& cfg)
{
    for (auto const& [label, p] : cfg.labels) {
        if (p.move_on_complete.empty())
            continue;
        auto ok = make_confined_dir(p.move_on_complete,
                                    {cfg.torrent.default_save_path, cfg.torrent.allowed_roots});
        if (!ok)
            return "labels." + label + ".move_on_complete: " + ok.error().message;
    }
    return {};
}

// Applies a re-read configuration: log level, the BitTorrent session settings (as if set with
// session.set_settings), labels, hooks and the watch folder now; everything else is named as
// needing a restart. A configuration that does not load or validate changes nothing.
void reload(config::Config& current, RunOptions const& opts, Engine& engine, WatchDir& watch)
{
    if (!opts.reload) {
        spdlog::warn("SIGHUP: nothing to reload");
        return;
    }
    auto loaded = opts.reload();
    if (!loaded.config) {
        spdlog::error("SIGHUP: configuration not reloaded, keeping the running one: {}",
                      loaded.error);
        return;
    }
    auto const& next = *loaded.config;
    if (auto err = check_label_paths(next); !err.empty()) {
        spdlog::error("SIGHUP: configuration not reloaded, keeping the running one: {}", err);
        return;
    }
    auto changed = changed_keys(current, next);
    if (changed.empty()) {
        spdlog::info("SIGHUP: configuration reloaded; nothing changed");
        return;
    }
    // What each key does on SIGHUP comes from the config key table.
    std::map<std::string, config::Apply> apply;
    for (auto const& k : config::keys())
        apply[k.name] = k.apply;
    auto apply_of = [&](std::string const& k) {
        if (auto it = apply.find(k); it != apply.end())
            return it->second;
        // labels.tv.ratio_limit: a part of "labels"
        auto it = apply.find(k.substr(0, k.find('.')));
        return it != apply.end() ? it->second : config::Apply::restart;
    };
    auto const bt = config::to_json(next)["bt"];
    nlohmann::json settings = nlohmann::json::object();
    std::vector<std::string> applied, restart;
    for (auto const& k : changed) {
        auto const how = apply_of(k);
        if (how == config::Apply::session)
            settings[k.substr(3)] = bt[k.substr(3)];
        else if (how == config::Apply::reload)
            applied.push_back(k);
        else
            restart.push_back(k);
    }
    if (!settings.empty()) {
        if (auto st = engine.set_session_settings(settings); !st) {
            spdlog::error("SIGHUP: session settings not applied: {}", st.error().message);
            return;
        }
        for (auto const& [k, v] : settings.items())
            applied.push_back("bt." + k);
    }
    if (std::find(applied.begin(), applied.end(), "log_level") != applied.end())
        spdlog::set_level(spdlog::level::from_str(next.log_level));
    engine.set_policies(next.labels, next.hooks);
    watch.configure(next.watch.dir, std::chrono::seconds(next.watch.interval));
    auto list = [](std::vector<std::string> const& v) {
        std::string out;
        for (auto const& k : v)
            out += (out.empty() ? "" : ", ") + k;
        return out;
    };
    spdlog::info("SIGHUP: configuration reloaded; applied: {}",
                 applied.empty() ? "-" : list(applied));
    if (!restart.empty())
        spdlog::warn("SIGHUP: these changes take effect after a restart: {}", list(restart));
    // Keep the restart-only keys at their running values, so they are reported again next time.
    for (auto const& k : applied) {
        if (k == "log_level")
            current.log_level = next.log_level;
    }
    auto const old_bt = current.bt;
    current.bt = next.bt;
    current.labels = next.labels;
    current.hooks = next.hooks;
    current.watch = next.watch;
    current.bt.alert_queue_size = old_bt.alert_queue_size;
    current.bt.file_pool_size = old_bt.file_pool_size;
    current.bt.local_peers_unthrottled = old_bt.local_peers_unthrottled;
    current.bt.user_agent = old_bt.user_agent;
}

std::int64_t unix_now()
{
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

} // namespace

int run_app(config::Config const& cfg, RunOptions const& opts)
{
    if (auto why = make_state_dir(cfg.state_dir); !why.empty()) {
        spdlog::critical("cannot create state directory {}: {}", cfg.state_dir, why);
        return 1;
    }
    // Before anything in the directory is read: a second daemon on it would load the same
    // torrents and ledger, announce them twice and overwrite rpc.address.
    std::string lock_error;
    auto const state_lock = StateLock::acquire(cfg.state_dir, lock_error);
    if (!state_lock.held()) {
        spdlog::critical("{}", lock_error);
        return 1;
    }
    std::error_code ec;

    auto bind = config::parse_endpoint(cfg.rpc.bind);
    std::string token = cfg.rpc.token;
    if (token.empty()) {
        bool exists = fs::exists(cfg.rpc.token_file, ec);
        if (!exists && !rpc::is_loopback_host(bind->host) && !cfg.rpc.generate_token) {
            spdlog::critical(
                "refusing to listen on non-loopback {} without a token: set rpc.token, "
                "create {} (0600) first, or set rpc.generate_token=true",
                cfg.rpc.bind, cfg.rpc.token_file);
            return 1;
        }
        bool created = false;
        if (auto err = rpc::load_or_create_token(cfg.rpc.token_file, token, created);
            !err.empty()) {
            spdlog::critical("{}", err);
            return 1;
        }
        spdlog::info("RPC token {} {}", created ? "generated in" : "read from", cfg.rpc.token_file);
    } else if (token.size() < 16) {
        spdlog::critical("rpc.token must be at least 16 characters");
        return 1;
    }

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

    std::string err;
    auto store = ledger::StateStore::open((fs::path(cfg.state_dir) / "state.db").string(), err);
    if (!store) {
        spdlog::critical("{}", err);
        return 1;
    }

    if (opts.reset_session_settings) {
        std::string const empty = "{}";
        auto reset_err = ledger::StateStore::wait([&](auto done) {
            store->put_blob("settings", ledger::Blob(empty.begin(), empty.end()), std::move(done));
        });
        if (!reset_err.empty()) {
            spdlog::critical("cannot reset the stored session settings: {}", reset_err);
            return 1;
        }
        spdlog::warn("session settings changed over RPC are forgotten "
                     "(--reset-session-settings): the configuration's values apply");
    }

    auto ledger = ledger::Ledger::open((fs::path(cfg.state_dir) / "ledger.db").string(), err);
    if (!ledger) {
        spdlog::critical("{}", err);
        return 1;
    }
    auto price = tron::parse_uint256(cfg.payments.price_per_gib);
    if (!price) {
        spdlog::critical("payments.price_per_gib is above 2^256 - 1");
        return 1;
    }

    auto parse_amount = [](std::string const& key, std::string const& v) {
        auto a = tron::parse_uint256(v);
        if (!a)
            spdlog::critical("{} is above 2^256 - 1", key);
        return a;
    };
    auto credit_line = parse_amount("payments.credit_line", cfg.payments.credit_line);
    auto max_price = parse_amount("payments.max_price_per_gib", cfg.payments.max_price_per_gib);
    auto budget = parse_amount("payments.budget", cfg.payments.budget);
    auto bid = parse_amount("payments.bid_per_gib", cfg.payments.bid_per_gib);
    if (!credit_line || !max_price || !budget || !bid)
        return 1;
    if (*bid > *max_price) {
        spdlog::critical("payments.bid_per_gib ({}) is above payments.max_price_per_gib ({})",
                         cfg.payments.bid_per_gib, cfg.payments.max_price_per_gib);
        return 1;
    }

    NodeTransport node;
    if (cfg.settlement.mode == "broadcast") {
        if (cfg.tron.node_url.empty()) {
            spdlog::critical("settlement.mode=broadcast needs tron.node_url");
            return 1;
        }
        std::string api_key;
        if (!cfg.tron.api_key_file.empty()) {
            std::ifstream f(cfg.tron.api_key_file);
            if (!f || !std::getline(f, api_key) || api_key.empty()) {
                spdlog::critical("cannot read a TRON-PRO-API-KEY from tron.api_key_file {}",
                                 cfg.tron.api_key_file);
                return 1;
            }
            while (!api_key.empty() && std::isspace(static_cast<unsigned char>(api_key.back())))
                api_key.pop_back();
        }
        node = rpc::make_node_transport(cfg.tron.node_url, cfg.tron.solidity_url, api_key);
    }
    boost::asio::io_context io(1);
    // Installed before anything announces readiness (the ready file, rpc.address, READY=1): a
    // signal right after those is queued here and handled below, never the default action that
    // kills the process without saving anything.
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    boost::asio::signal_set hup(io, SIGHUP);
    EventHub events(io);
    std::shared_ptr<Payments> payments;
    if (key.key && cfg.ledger.accounting) {
        tron::Address hub;
        std::string why;
        if (!cfg.payments.hub.empty()) {
            auto parsed = tron::Address::parse(cfg.payments.hub, &why);
            if (!parsed) {
                spdlog::critical("payments.hub: {}", why);
                return 1;
            }
            hub = *parsed;
        }
        auto identity = std::make_shared<PayIdentity const>(
            PayIdentity{*key.key, *wallet, cfg.payments.chain_id, hub, cfg.payments.price_per_gib});
        PaymentTerms terms{cfg.payments.accept,
                           cfg.payments.require,
                           cfg.payments.pay,
                           *price,
                           *bid,
                           *credit_line,
                           *max_price,
                           *budget,
                           cfg.bt.local_peers_unthrottled,
                           cfg.payments.credit_window};
        payments = std::make_shared<Payments>(*ledger, identity, terms,
                                              [&events](Event event, nlohmann::json params) {
                                                  events.publish(event, std::move(params));
                                              });
        payments->load(ledger->balances(cfg.payments.credit_window));
    }

    auto accounting = cfg.ledger.accounting ? std::make_shared<Accounting>() : nullptr;
    if (!accounting)
        spdlog::warn("ledger.accounting is off: no per-peer counts, no payments");
    if (auto e = check_label_paths(cfg); !e.empty()) {
        spdlog::critical("{}", e);
        return 1;
    }
    Notifier notifier;
    notifier.send("STATUS=opening state");
    Engine engine(io, cfg, *store, events, accounting, payments);
    LedgerService ledger_service(io, *ledger, accounting, *price,
                                 std::chrono::seconds(cfg.ledger.flush_interval), events);
    if (auto e = engine.start([&notifier](std::string const& s) {
            spdlog::info("{}", s);
            notifier.send("STATUS=" + s);
        });
        !e.empty()) {
        spdlog::critical("{}", e);
        return 1;
    }

    Settlement settlement(cfg, *ledger, key.key, events, node);
    rpc::Context ctx{engine, cfg, token, unix_now(), nullptr, wallet, ledger.get(), &settlement};
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
    rpc::Server server(io, dispatcher, events, cfg.rpc, token, brake);
    ctx.quick = [&server](std::function<void()> job) { server.post_to_workers(std::move(job)); };
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

    // The watchdog is fed from the io thread, so a wedged event loop gets the service restarted.
    boost::asio::steady_timer watchdog(io);
    std::function<void()> feed_watchdog = [&] {
        notifier.send("WATCHDOG=1");
        watchdog.expires_after(*notifier.watchdog_interval());
        watchdog.async_wait([&](boost::system::error_code wec) {
            if (!wec)
                feed_watchdog();
        });
    };
    if (notifier.watchdog_interval())
        feed_watchdog();

    bool stopping = false; // io thread: set once SIGINT/SIGTERM starts the shutdown
    // SIGHUP: read the configuration again and apply what can change while running.
    config::Config current = cfg;
    std::function<void()> wait_hup = [&] {
        hup.async_wait([&](boost::system::error_code hec, int) {
            if (hec)
                return;
            notifier.send("RELOADING=1\nMONOTONIC_USEC=" +
                          std::to_string(Notifier::monotonic_usec()));
            // Off the io thread: applying settings stores them (a SQLite commit) and waits on
            // libtorrent. The next SIGHUP is awaited once this one is done, so reloads never
            // overlap; a signal meanwhile stays pending in the signal_set.
            server.post_to_workers([&] {
                reload(current, opts, engine, watch);
                notifier.send("READY=1\n" + serving_status());
                boost::asio::post(io, [&] {
                    if (!stopping)
                        wait_hup();
                });
            });
        });
    };
    wait_hup();

    boost::asio::steady_timer deadline(io);
    std::function<void()> wait_signal = [&] {
        signals.async_wait([&](boost::system::error_code sec, int sig) {
            if (sec)
                return;
            if (stopping) {
                spdlog::warn("signal {} again: still saving state, please wait", sig);
            } else {
                stopping = true;
                spdlog::info("signal {}: shutting down", sig);
                notifier.send("STOPPING=1\nSTATUS=saving resume data and the ledger");
                hup.cancel();
                watchdog.cancel();
                watch.configure({}, std::chrono::seconds(1)); // no more adds; joined below
                server.stop();
                ledger_service.stop();
                engine.shutdown([&] {
                    deadline.cancel();
                    signals.cancel();
                    io.stop();
                });
                // Backstop in case libtorrent never answers: the process must exit in bounded time.
                deadline.expires_after(std::chrono::seconds(cfg.state.shutdown_timeout + 5));
                deadline.async_wait([&](boost::system::error_code dec) {
                    if (!dec) {
                        spdlog::error("shutdown did not finish in time; exiting anyway");
                        io.stop();
                    }
                });
            }
            wait_signal();
        });
    };
    wait_signal();

    // An exception escaping a handler would end io.run(); the sessions guard their own, so this is
    // the last line of defence: log it and keep serving.
    for (;;) {
        try {
            io.run();
            break;
        } catch (std::exception const& e) {
            spdlog::error("unexpected error on the io thread (kept running): {}", e.what());
        }
    }
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
