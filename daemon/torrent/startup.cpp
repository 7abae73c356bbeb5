// Starting the engine: the libtorrent session from the configuration and what
// state.db kept (session state, settings set over RPC), then every stored
// torrent restored with its resume data.
#include "daemon/torrent/engine_impl.h"

#include "daemon/base/listen_check.h"
#include "daemon/base/threads.h"
#include "daemon/btt_pay/plugin.h"

#include <boost/asio/post.hpp>
#include <libtorrent/bdecode.hpp>
#include <libtorrent/magnet_uri.hpp>
#include <libtorrent/mmap_disk_io.hpp>
#include <libtorrent/posix_disk_io.hpp>
#include <libtorrent/read_resume_data.hpp>
#include <libtorrent/session_params.hpp>
#include <libtorrent/version.hpp>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <future>

namespace seedbox::daemon {

using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

// The listen_interfaces the session starts with: the configuration's, or the
// one set over RPC and stored in state.db (listen_interfaces, then
// listen_port), checked like session.set_settings.
Result<std::string> listen_interfaces_at_start(std::string configured, json const& stored)
{
    std::string origin = "bt.listen_interfaces";
    if (auto it = stored.find("listen_interfaces"); it != stored.end() && it->is_string()) {
        configured = it->get<std::string>();
        origin = "listen_interfaces (set with session.set_settings, stored in state.db)";
    }
    if (auto it = stored.find("listen_port");
        it != stored.end() && it->is_number_integer() && *it >= 0 && *it <= 65535) {
        configured = with_listen_port(configured, it->get<int>());
        origin = "listen_port (set with session.set_settings, stored in state.db)";
    }
    if (auto why = listen_interfaces_problem(configured); !why.empty())
        return make_error(Errc::invalid_argument,
                          origin + ": " + why +
                              (origin.starts_with("bt.")
                                   ? ""
                                   : "; start once with --reset-session-settings to use the "
                                     "configuration's bt.listen_interfaces"));
    return configured;
}

// The session state (DHT) saved at the last shutdown, if state.db holds a
// readable one.
lt::session_params stored_session_params(ledger::StateStore& store)
{
    lt::session_params params;
    if (auto blob = store.get_blob("session")) {
        lt::error_code bec;
        auto node = lt::bdecode({reinterpret_cast<char const*>(blob->data()),
                                 static_cast<std::ptrdiff_t>(blob->size())},
                                bec);
        if (!bec)
            params = lt::read_session_params(node, lt::session::save_dht_state);
        else
            spdlog::warn("stored session state is unreadable ({}); starting fresh", bec.message());
    }
    return params;
}

// The session settings set over RPC and stored in state.db (an empty object if
// none).
json stored_settings(ledger::StateStore& store)
{
    json stored = json::object();
    if (auto blob = store.get_blob("settings")) {
        auto j = json::parse(blob->begin(), blob->end(), nullptr, false);
        if (j.is_object())
            stored = std::move(j);
    }
    return stored;
}

// Classes every address like a remote peer: loopback/LAN peers obey limits and
// choking.
void throttle_local_peers(lt::session& ses)
{
    lt::ip_filter f;
    auto const all = 1u << static_cast<std::uint32_t>(lt::session::global_peer_class_id);
    f.add_rule(boost::asio::ip::make_address("0.0.0.0"),
               boost::asio::ip::make_address("255.255.255.255"), all);
    f.add_rule(boost::asio::ip::make_address("::"),
               boost::asio::ip::make_address("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), all);
    ses.set_peer_class_filter(f);
}

} // namespace

void Engine::Impl::set_up_session()
{
    if (!cfg.bt.local_peers_unthrottled)
        throttle_local_peers(*ses);
    if (accounting)
        ses->add_extension(make_btt_pay_plugin(accounting, payments));
    if (payments) {
        payments->attach(*ses); // its class filter (replaces the one above), choking by bid
        payments->set_upload_limit(effective_rates().second);
    }
    ses->set_alert_notify([this] {
        // Called on libtorrent's network thread: named here, the first time, as it has no name
        // of its own (its disk threads keep the process's).
        thread_local bool const named = (name_this_thread("sbx-libtorrent"), true);
        (void)named;
        boost::asio::post(io, [this] { drain_alerts(); });
    });
}

std::vector<ledger::TorrentRow> Engine::Impl::list_stored()
{
    auto rows = store.load_torrents();
    std::lock_guard lock(mutex);
    for (auto const& row : rows)
        add_loading(row);
    return rows;
}

void Engine::Impl::start_restorer(std::vector<ledger::TorrentRow> rows,
                                  std::function<void(std::string const&)> on_status)
{
    on_load_status = std::move(on_status);
    loading_total = loading_left = rows.size();
    loading_since = std::chrono::steady_clock::now();
    if (rows.empty())
        return;
    if (on_load_status)
        on_load_status("loading " + std::to_string(rows.size()) + " torrents");
    restorer = std::jthread([this, rows = std::move(rows)](std::stop_token const& stop) {
        name_this_thread("sbx-restore");
        for (auto const& row : rows) {
            if (stop.stop_requested())
                return;
            restore(row);
        }
    });
}

void Engine::Impl::stop_loading()
{
    if (!restorer.joinable())
        return;
    restorer.request_stop();
    restorer.join();
}

std::string Engine::open()
{
    auto& m = *impl_;
    std::error_code ec;
    fs::create_directories(m.cfg.torrent.default_save_path, ec);
    if (ec)
        return "cannot create " + m.cfg.torrent.default_save_path + ": " + ec.message();

    auto params = stored_session_params(m.store);
    params.settings = m.base_settings();
    // The listen addresses are checked before the session opens any socket (fail
    // closed), and the ones set over RPC (stored in state.db) are the ones it
    // opens first.
    m.pending_settings = stored_settings(m.store);
    auto const& stored = m.pending_settings;
    auto listen = listen_interfaces_at_start(
        params.settings.get_str(lt::settings_pack::listen_interfaces), stored);
    if (!listen)
        return listen.error().message;
    params.settings.set_str(lt::settings_pack::listen_interfaces, *listen);
    m.applied_settings = params.settings; // no other thread runs yet
    auto const [down, up] = m.effective_rates();
    params.settings.set_int(lt::settings_pack::download_rate_limit, down);
    params.settings.set_int(lt::settings_pack::upload_rate_limit, up);
    params.disk_io_constructor =
        m.cfg.bt.disk_io == "posix" ? lt::posix_disk_io_constructor : lt::mmap_disk_io_constructor;
    // libtorrent's session takes 20-45 ms to open (its TLS context parses the system's CA
    // bundle): the table fills from state.db, and the daemon sets up its RPC server, meanwhile.
    m.opening = std::async(std::launch::async, [params = std::move(params)]() mutable {
        return std::make_unique<lt::session>(std::move(params));
    });
    m.stored_rows = m.list_stored();
    return {};
}

std::string Engine::start(std::function<void(std::string const&)> on_status)
{
    auto& m = *impl_;
    if (!m.opening.valid())
        if (auto e = open(); !e.empty())
            return e;
    m.ses = m.opening.get();
    auto const stored = std::move(m.pending_settings);
    m.set_up_session();
    m.start_ip_filter();
    m.load_runtime_labels();

    if (!stored.empty()) {
        spdlog::info("applying {} session setting(s) changed over RPC (stored in state.db)",
                     stored.size());
        if (auto st = m.apply_settings(stored, false); !st)
            spdlog::warn("stored session settings ignored: {}", st.error().message);
    }

    m.start_restorer(std::exchange(m.stored_rows, {}), std::move(on_status));
    spdlog::info("session started: libtorrent {}, {} disk I/O, {} torrent(s) loading",
                 lt::version(), m.cfg.bt.disk_io, m.loading_total);
    m.ses->post_torrent_updates(kStatusFlags);
    m.schedule_tick(std::chrono::seconds(1));
    m.schedule_resume_save();
    m.check_alt_schedule(true);
    m.schedule_alt_check();
    return {};
}

namespace {

// The stored resume data of a torrent, read; resume_state becomes "accepted"
// when it is usable (and stays "none" otherwise: empty params, checked from
// scratch).
lt::add_torrent_params resume_params(ledger::TorrentRow const& row, std::string& resume_state)
{
    lt::add_torrent_params atp;
    if (!row.resume.empty()) {
        lt::error_code ec;
        atp = lt::read_resume_data({reinterpret_cast<char const*>(row.resume.data()),
                                    static_cast<std::ptrdiff_t>(row.resume.size())},
                                   ec);
        if (ec) {
            spdlog::warn("torrent {}: resume data unreadable ({}), will recheck", row.id,
                         ec.message());
            atp = {};
        } else {
            resume_state = "accepted";
        }
    }
    return atp;
}

// What the resume data lacks, from the stored source: the .torrent's info, or
// (without resume data) the magnet link. False, logged, when the source is
// unusable: the torrent is skipped.
bool add_source(ledger::TorrentRow const& row, std::string const& resume_state,
                lt::add_torrent_params& atp)
{
    if (resume_state == "none" || (!atp.ti && row.source_kind == "metainfo")) {
        lt::error_code ec;
        if (row.source_kind == "metainfo") {
            auto ti = std::make_shared<lt::torrent_info>(
                lt::span<char const>(reinterpret_cast<char const*>(row.source.data()),
                                     static_cast<std::ptrdiff_t>(row.source.size())),
                ec, lt::from_span);
            if (!ec)
                atp.ti = std::move(ti);
        } else if (resume_state == "none") {
            atp = lt::parse_magnet_uri(std::string(row.source.begin(), row.source.end()), ec);
        }
        if (ec) {
            spdlog::error("torrent {}: stored source is unusable ({}); skipped", row.id,
                          ec.message());
            return false;
        }
    }
    return true;
}

// Where the data is and how the torrent runs, from our stored settings (not the
// resume data's).
void apply_meta(lt::add_torrent_params& atp, TorrentMeta const& meta, std::string const& save_path,
                bool pex)
{
    atp.save_path = save_path;
    atp.flags &= ~(lt::torrent_flags::paused | lt::torrent_flags::auto_managed |
                   lt::torrent_flags::duplicate_is_error | lt::torrent_flags::sequential_download);
    atp.flags |= meta.stopped ? lt::torrent_flags::paused : lt::torrent_flags::auto_managed;
    if (meta.sequential)
        atp.flags |= lt::torrent_flags::sequential_download;
    if (!pex)
        atp.flags |= lt::torrent_flags::disable_pex;
    atp.upload_limit = static_cast<int>(meta.upload_limit);
    atp.download_limit = static_cast<int>(meta.download_limit);
    atp.max_connections = static_cast<int>(meta.max_connections);
}

} // namespace

void Engine::Impl::add_loading(ledger::TorrentRow const& row)
{
    Entry e;
    e.id = row.id;
    e.number = row.number;
    e.meta = TorrentMeta::from_json(json::parse(row.meta_json, nullptr, false));
    e.save_path = row.save_path;
    e.resume_saved_time = row.resume_time;
    e.source_is_magnet = row.source_kind == "magnet";
    e.restored = true;
    e.loading = true;
    (void)add_entry(row.id, std::move(e)); // state.db's ids are unique
}

void Engine::Impl::restore(ledger::TorrentRow const& row)
{
    std::string resume_state = "none";
    auto atp = resume_params(row, resume_state);
    bool const usable = add_source(row, resume_state, atp);
    std::unique_lock lock(mutex);
    auto it = torrents.find(row.id);
    if (it == torrents.end())
        return;
    auto& e = it->second;
    if (!usable) {
        e.loading = false;
        e.failed = true;
        e.error = "its stored source is unusable (see the log); remove it and add it again";
        handles_cv.notify_all();
        lock.unlock();
        boost::asio::post(io, [this] { loaded_one(); });
        return;
    }
    e.status.name = atp.ti ? atp.ti->name() : atp.name;
    e.resume_state = resume_state;
    if (resume_state != "accepted")
        mark_dirty(e);
    // The entry's meta cannot change while it loads (changes wait for its handle).
    apply_meta(atp, e.meta, e.save_path, pex);
    lock.unlock();
    ses->async_add_torrent(std::move(atp));
}

void Engine::Impl::on_torrent_added(lt::add_torrent_alert const& a)
{
    auto const id = a.handle.is_valid() ? id_of(a.handle.info_hashes())
                    : a.params.ti       ? id_of(a.params.ti->info_hashes())
                                        : id_of(a.params.info_hashes);
    bool restored = false;
    {
        std::lock_guard lock(mutex);
        auto it = torrents.find(id);
        if (it == torrents.end() || !it->second.loading)
            return; // removed meanwhile? Not possible while loading; nothing to do
        auto& e = it->second;
        e.loading = false;
        restored = e.restored;
        e.failed = static_cast<bool>(a.error);
        if (a.error)
            e.error = "libtorrent could not load it: " + a.error.message();
        else
            e.handle = a.handle;
        handles_cv.notify_all();
    }
    if (a.error)
        spdlog::error("torrent {}: libtorrent refused it: {}", id, a.error.message());
    if (restored)
        loaded_one();
    else
        post_updates = true; // its first status now, not at the next tick
}

void Engine::Impl::loaded_one()
{
    if (loading_left == 0)
        return;
    --loading_left;
    auto const done = loading_total - loading_left;
    if (on_load_status && (done % 500 == 0 || loading_left == 0))
        on_load_status("loaded " + std::to_string(done) + " of " + std::to_string(loading_total) +
                       " torrents");
    if (loading_left > 0)
        return;
    auto const ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - loading_since)
                        .count();
    spdlog::info("{} torrent(s) loaded in {} ms", loading_total, ms);
    wake();
    ses->post_torrent_updates(kStatusFlags);
}

} // namespace seedbox::daemon
