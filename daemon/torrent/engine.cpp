#include "daemon/torrent/engine_impl.h"

#include "daemon/paths.h"

#include <boost/asio/post.hpp>
#include <libtorrent/bdecode.hpp>
#include <libtorrent/magnet_uri.hpp>
#include <libtorrent/read_resume_data.hpp>
#include <libtorrent/session_params.hpp>
#include <libtorrent/version.hpp>
#include <libtorrent/write_resume_data.hpp>
#include <spdlog/spdlog.h>

#include <filesystem>

namespace seedbox::daemon {

using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

ledger::Blob to_blob(std::vector<char> const& v)
{
    return {v.begin(), v.end()};
}

// Builds a .torrent from a torrent_info's raw info section, so the info-hash is preserved exactly.
ledger::Blob torrent_file_of(lt::torrent_info const& ti)
{
    auto info = ti.info_section();
    std::string out = "d4:info";
    out.append(info.data(), static_cast<std::size_t>(info.size()));
    out += 'e';
    return {out.begin(), out.end()};
}

} // namespace

std::string libtorrent_version()
{
    return lt::version();
}

std::int64_t now_unix()
{
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string id_of(lt::info_hash_t const& ih)
{
    std::ostringstream os;
    if (ih.has_v1())
        os << ih.v1;
    else
        os << ih.v2;
    return os.str();
}

json TorrentMeta::to_json() const
{
    return {{"labels", labels},
            {"added_time", added_time},
            {"completed_time", completed_time},
            {"stopped", stopped},
            {"upload_limit", upload_limit},
            {"download_limit", download_limit},
            {"max_connections", max_connections},
            {"sequential", sequential},
            {"ratio_limit", ratio_limit},
            {"seed_time_limit", seed_time_limit},
            {"limit_action", limit_action}};
}

TorrentMeta TorrentMeta::from_json(json const& j)
{
    TorrentMeta m;
    if (!j.is_object())
        return m;
    m.labels = j.value("labels", m.labels);
    m.added_time = j.value("added_time", m.added_time);
    m.completed_time = j.value("completed_time", m.completed_time);
    m.stopped = j.value("stopped", m.stopped);
    m.upload_limit = j.value("upload_limit", m.upload_limit);
    m.download_limit = j.value("download_limit", m.download_limit);
    m.max_connections = j.value("max_connections", m.max_connections);
    m.sequential = j.value("sequential", m.sequential);
    m.ratio_limit = j.value("ratio_limit", m.ratio_limit);
    m.seed_time_limit = j.value("seed_time_limit", m.seed_time_limit);
    m.limit_action = j.value("limit_action", m.limit_action);
    return m;
}

Engine::Engine(boost::asio::io_context& io, config::Config const& cfg, ledger::StateStore& store,
               EventHub& events)
    : impl_(std::make_unique<Impl>(io, cfg, store, events))
{
    impl_->pex = cfg.bt.pex;
}

Engine::~Engine() = default;

bool Engine::stopping() const
{
    return impl_->stopping;
}

std::string Engine::start(std::function<void(std::string const&)> on_status)
{
    auto& m = *impl_;
    std::error_code ec;
    fs::create_directories(m.cfg.torrent.default_save_path, ec);
    if (ec)
        return "cannot create " + m.cfg.torrent.default_save_path + ": " + ec.message();

    lt::session_params params;
    if (auto blob = m.store.get_blob("session")) {
        lt::error_code bec;
        auto node = lt::bdecode({reinterpret_cast<char const*>(blob->data()),
                                 static_cast<std::ptrdiff_t>(blob->size())},
                                bec);
        if (!bec)
            params = lt::read_session_params(node, lt::session::save_dht_state);
        else
            spdlog::warn("stored session state is unreadable ({}); starting fresh", bec.message());
    }
    params.settings = m.base_settings();
    m.ses = std::make_unique<lt::session>(std::move(params));
    if (!m.cfg.bt.local_peers_unthrottled) {
        // Class every address like a remote peer: loopback/LAN peers obey limits and choking.
        lt::ip_filter f;
        auto const all = 1u << static_cast<std::uint32_t>(lt::session::global_peer_class_id);
        f.add_rule(boost::asio::ip::make_address("0.0.0.0"),
                   boost::asio::ip::make_address("255.255.255.255"), all);
        f.add_rule(boost::asio::ip::make_address("::"),
                   boost::asio::ip::make_address("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), all);
        m.ses->set_peer_class_filter(f);
    }
    m.ses->set_alert_notify([&m] { boost::asio::post(m.io, [&m] { m.drain_alerts(); }); });

    if (auto blob = m.store.get_blob("settings")) {
        auto stored = json::parse(blob->begin(), blob->end(), nullptr, false);
        if (stored.is_object() && !stored.empty()) {
            spdlog::info("applying {} session setting(s) changed over RPC (stored in state.db)",
                         stored.size());
            if (auto st = m.apply_settings(stored, false); !st)
                spdlog::warn("stored session settings ignored: {}", st.error().message);
        }
    }

    auto rows = m.store.load_torrents();
    std::size_t n = 0;
    for (auto const& row : rows) {
        m.restore(row);
        if (on_status && (++n % 500 == 0 || n == rows.size()))
            on_status("loaded " + std::to_string(n) + " of " + std::to_string(rows.size()) +
                      " torrents");
    }
    spdlog::info("session started: libtorrent {}, {} torrent(s) restored", lt::version(),
                 m.torrents.size());
    m.ses->post_torrent_updates(kStatusFlags);
    m.schedule_tick();
    m.schedule_resume_save();
    return {};
}

void Engine::Impl::restore(ledger::TorrentRow const& row)
{
    lt::add_torrent_params atp;
    std::string resume_state = "none";
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
            return;
        }
    }
    auto meta = TorrentMeta::from_json(json::parse(row.meta_json, nullptr, false));
    atp.save_path = row.save_path;
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
    lt::error_code ec;
    auto h = ses->add_torrent(std::move(atp), ec);
    if (ec) {
        spdlog::error("torrent {}: cannot restore: {}", row.id, ec.message());
        return;
    }
    Entry e;
    e.id = row.id;
    e.handle = h;
    // Start-up runs before the RPC listens: a synchronous status makes the first list complete.
    e.status = h.status(kStatusFlags);
    e.have_status = true;
    e.meta = meta;
    e.save_path = row.save_path;
    e.resume_state = resume_state;
    e.resume_saved_time = row.resume_time;
    e.source_is_magnet = row.source_kind == "magnet";
    e.dirty = resume_state != "accepted";
    std::lock_guard lock(mutex);
    e.seq = next_seq++;
    torrents.emplace(row.id, std::move(e));
}

void Engine::Impl::schedule_tick()
{
    tick_timer.expires_after(std::chrono::seconds(1));
    tick_timer.async_wait([this](boost::system::error_code ec) {
        if (ec || stopping)
            return;
        on_tick();
        schedule_tick();
    });
}

void Engine::Impl::schedule_resume_save()
{
    resume_timer.expires_after(std::chrono::seconds(cfg.state.resume_save_interval));
    resume_timer.async_wait([this](boost::system::error_code ec) {
        if (ec || stopping)
            return;
        save_dirty(false);
        schedule_resume_save();
    });
}

void Engine::Impl::on_tick()
{
    ses->post_torrent_updates(kStatusFlags);
    ses->post_session_stats();
    check_share_limits();
}

void Engine::Impl::save_dirty(bool all)
{
    std::vector<lt::torrent_handle> handles;
    {
        std::lock_guard lock(mutex);
        for (auto& [id, e] : torrents) {
            if (all || e.dirty) {
                e.dirty = false;
                handles.push_back(e.handle);
            }
        }
    }
    for (auto& h : handles) {
        h.save_resume_data(
            lt::torrent_handle::save_info_dict |
            (all ? lt::torrent_handle::flush_disk_cache : lt::resume_data_flags_t{}));
        if (stopping)
            ++outstanding_saves;
    }
}

void Engine::Impl::drain_alerts()
{
    if (!ses)
        return;
    std::vector<lt::alert*> alerts;
    ses->pop_alerts(&alerts);
    for (auto* a : alerts) {
        try {
            handle(a);
        } catch (std::exception const& ex) {
            spdlog::error("error handling alert {}: {}", a->what(), ex.what());
        }
    }
}

void Engine::Impl::handle(lt::alert* a)
{
    if (auto* su = lt::alert_cast<lt::state_update_alert>(a)) {
        on_state_update(*su);
    } else if (auto* sr = lt::alert_cast<lt::save_resume_data_alert>(a)) {
        on_save_resume(*sr);
    } else if (auto* sf = lt::alert_cast<lt::save_resume_data_failed_alert>(a)) {
        if (sf->error != lt::errors::resume_data_not_modified)
            spdlog::warn("{}", sf->message());
        if (stopping && --outstanding_saves <= 0)
            finish_shutdown();
    } else if (auto* ss = lt::alert_cast<lt::session_stats_alert>(a)) {
        auto c = ss->counters();
        std::lock_guard lock(mutex);
        prev_counters = std::move(counters);
        prev_counters_time = counters_time;
        counters.assign(c.begin(), c.end());
        counters_time = std::chrono::steady_clock::now();
    } else if (auto* tf = lt::alert_cast<lt::torrent_finished_alert>(a)) {
        auto id = id_of(tf->handle.info_hashes());
        {
            std::lock_guard lock(mutex);
            auto it = torrents.find(id);
            if (it == torrents.end())
                return;
            auto& e = it->second;
            if (e.meta.completed_time == 0) {
                e.meta.completed_time = now_unix();
                store.update_meta(id, e.meta.to_json().dump(), e.save_path);
            }
            e.dirty = true;
            e.finished_pending = true;
        }
        // Save now so a finished download survives kill -9 without a recheck.
        tf->handle.save_resume_data(lt::torrent_handle::save_info_dict |
                                    lt::torrent_handle::flush_disk_cache);
        ses->post_torrent_updates(kStatusFlags);
    } else if (auto* te = lt::alert_cast<lt::torrent_error_alert>(a)) {
        auto id = id_of(te->handle.info_hashes());
        {
            std::lock_guard lock(mutex);
            if (auto it = torrents.find(id); it != torrents.end())
                it->second.error = te->error.message();
        }
        spdlog::warn("{}", te->message());
        events.publish("torrent.error", {{"id", id},
                                         {"name", te->torrent_name()},
                                         {"error", te->error.message()},
                                         {"file", te->filename()}});
        ses->post_torrent_updates(kStatusFlags);
    } else if (auto* fe = lt::alert_cast<lt::file_error_alert>(a)) {
        auto id = id_of(fe->handle.info_hashes());
        spdlog::warn("{}", fe->message());
        events.publish("torrent.error", {{"id", id},
                                         {"name", fe->torrent_name()},
                                         {"error", fe->error.message()},
                                         {"file", fe->filename()},
                                         {"operation", lt::operation_name(fe->op)}});
    } else if (auto* fr = lt::alert_cast<lt::fastresume_rejected_alert>(a)) {
        auto id = id_of(fr->handle.info_hashes());
        spdlog::warn("{}", fr->message());
        std::lock_guard lock(mutex);
        if (auto it = torrents.find(id); it != torrents.end()) {
            it->second.resume_state = "rejected";
            it->second.dirty = true;
        }
    } else if (auto* sm = lt::alert_cast<lt::storage_moved_alert>(a)) {
        auto id = id_of(sm->handle.info_hashes());
        std::lock_guard lock(mutex);
        if (auto it = torrents.find(id); it != torrents.end()) {
            it->second.save_path = sm->storage_path();
            it->second.dirty = true;
            store.update_meta(id, it->second.meta.to_json().dump(), it->second.save_path);
        }
        spdlog::info("{}", sm->message());
    } else if (auto* smf = lt::alert_cast<lt::storage_moved_failed_alert>(a)) {
        spdlog::warn("{}", smf->message());
        events.publish("torrent.error", {{"id", id_of(smf->handle.info_hashes())},
                                         {"name", smf->torrent_name()},
                                         {"error", smf->error.message()},
                                         {"operation", "move"}});
    } else if (auto* ls = lt::alert_cast<lt::listen_succeeded_alert>(a)) {
        if (ls->socket_type == lt::socket_type_t::tcp) {
            std::lock_guard lock(mutex);
            listen_port = ls->port;
        }
        spdlog::info("{}", ls->message());
    } else if (auto* lf = lt::alert_cast<lt::listen_failed_alert>(a)) {
        spdlog::error("{}", lf->message());
    } else if (auto* ad = lt::alert_cast<lt::alerts_dropped_alert>(a)) {
        spdlog::warn("{} (raise bt.alert_queue_size)", ad->message());
        ses->post_torrent_updates(kStatusFlags);
    } else if (lt::alert_cast<lt::metadata_received_alert>(a) ||
               lt::alert_cast<lt::torrent_checked_alert>(a) ||
               lt::alert_cast<lt::state_changed_alert>(a) ||
               lt::alert_cast<lt::torrent_paused_alert>(a) ||
               lt::alert_cast<lt::torrent_resumed_alert>(a)) {
        auto const* ta = static_cast<lt::torrent_alert const*>(a);
        auto id = id_of(ta->handle.info_hashes());
        bool save_now = lt::alert_cast<lt::metadata_received_alert>(a) != nullptr;
        {
            std::lock_guard lock(mutex);
            if (auto it = torrents.find(id); it != torrents.end())
                it->second.dirty = true;
        }
        if (save_now)
            ta->handle.save_resume_data(lt::torrent_handle::save_info_dict);
        ses->post_torrent_updates(kStatusFlags);
    } else if (a->category() & lt::alert_category::error) {
        spdlog::warn("{}", a->message());
    } else if (lt::alert_cast<lt::performance_alert>(a)) {
        spdlog::warn("{}", a->message());
    }
}

void Engine::Impl::on_state_update(lt::state_update_alert const& a)
{
    json changed = json::array();
    std::vector<std::pair<json, std::string>> transitions;
    std::vector<json> finished;
    {
        std::lock_guard lock(mutex);
        for (auto const& st : a.status) {
            auto it = torrents.find(id_of(st.info_hashes));
            if (it == torrents.end())
                continue;
            auto& e = it->second;
            auto before = e.have_status ? state_of(e) : std::string();
            e.status = st;
            e.have_status = true;
            if (st.need_save_resume)
                e.dirty = true;
            if (!st.errc)
                e.error.clear();
            auto after = state_of(e);
            if (!before.empty() && before != after)
                transitions.emplace_back(summary(e), before);
            if (e.finished_pending) {
                e.finished_pending = false;
                auto note = summary(e);
                note["save_path"] = e.save_path;
                note["completed_time"] = e.meta.completed_time;
                finished.push_back(std::move(note));
            }
            changed.push_back(summary(e));
        }
    }
    for (auto& [note, previous] : transitions) {
        note["previous_state"] = previous;
        events.publish("torrent.state_changed", std::move(note));
    }
    for (auto& note : finished)
        events.publish("torrent.finished", std::move(note));
    if (!changed.empty() && events.subscribers() > 0)
        events.publish("torrent.stats", {{"torrents", std::move(changed)}});
}

void Engine::Impl::on_save_resume(lt::save_resume_data_alert const& a)
{
    auto id = id_of(a.params.info_hashes);
    bool magnet_source = false;
    {
        std::lock_guard lock(mutex);
        auto it = torrents.find(id);
        if (it != torrents.end()) {
            magnet_source = it->second.source_is_magnet && a.params.ti;
            if (magnet_source)
                it->second.source_is_magnet = false;
        }
    }
    if (magnet_source)
        store.save_source(id, torrent_file_of(*a.params.ti));
    auto when = now_unix();
    store.save_resume(id, to_blob(lt::write_resume_data_buf(a.params)), when,
                      [this, id, when](std::string const& err) {
                          if (!err.empty()) {
                              spdlog::error("torrent {}: saving resume data failed: {}", id, err);
                              return;
                          }
                          std::lock_guard lock(mutex);
                          if (auto it = torrents.find(id); it != torrents.end())
                              it->second.resume_saved_time = when;
                      });
    if (stopping && --outstanding_saves <= 0)
        finish_shutdown();
}

void Engine::shutdown(std::function<void()> done)
{
    auto& m = *impl_;
    if (m.stopping.exchange(true))
        return;
    m.shutdown_done = std::move(done);
    m.tick_timer.cancel();
    m.resume_timer.cancel();
    spdlog::info("shutting down: pausing session and saving resume data");
    m.ses->pause();
    m.outstanding_saves = 0;
    m.save_dirty(true);
    if (m.outstanding_saves == 0) {
        m.finish_shutdown();
        return;
    }
    m.shutdown_timer.expires_after(std::chrono::seconds(m.cfg.state.shutdown_timeout));
    m.shutdown_timer.async_wait([&m](boost::system::error_code ec) {
        if (ec)
            return;
        spdlog::warn("shutdown: {} resume save(s) still outstanding after {} s; giving up",
                     m.outstanding_saves, m.cfg.state.shutdown_timeout);
        m.finish_shutdown();
    });
}

void Engine::Impl::finish_shutdown()
{
    if (!shutdown_done)
        return;
    shutdown_timer.cancel();
    auto state = lt::write_session_params_buf(ses->session_state(lt::session::save_dht_state),
                                              lt::session::save_dht_state);
    store.put_blob("session", to_blob(state));
    auto done = std::move(shutdown_done);
    shutdown_done = nullptr;
    spdlog::info("resume data saved");
    boost::asio::post(io, std::move(done));
}

Result<Entry*> Engine::Impl::find(std::string const& id)
{
    auto it = torrents.find(id);
    if (it == torrents.end())
        return make_error(Errc::torrent_not_found, "no torrent with id " + id);
    return &it->second;
}

Status Engine::Impl::for_each_id(std::vector<std::string> const& ids,
                                 std::function<void(Entry&)> const& fn)
{
    if (ids.empty())
        return make_error(Errc::invalid_argument, "ids: at least one torrent id is required");
    std::lock_guard lock(mutex);
    for (auto const& id : ids)
        if (!torrents.count(id))
            return make_error(Errc::torrent_not_found, "no torrent with id " + id);
    for (auto const& id : ids)
        fn(torrents.at(id));
    return Ok{};
}

std::string Engine::Impl::persist_meta(std::string const& id)
{
    std::string meta, save_path;
    {
        std::lock_guard lock(mutex);
        auto it = torrents.find(id);
        if (it == torrents.end())
            return {};
        meta = it->second.meta.to_json().dump();
        save_path = it->second.save_path;
    }
    return ledger::StateStore::wait(
        [&](auto done) { store.update_meta(id, meta, save_path, std::move(done)); });
}

Result<AddResult> Engine::add(AddRequest const& req)
{
    auto& m = *impl_;
    if (m.stopping)
        return make_error(Errc::shutting_down, "the daemon is shutting down");
    lt::add_torrent_params atp;
    ledger::TorrentRow row;
    lt::error_code ec;
    if (!req.metainfo.empty()) {
        if (static_cast<std::int64_t>(req.metainfo.size()) > m.cfg.torrent.max_metainfo_bytes)
            return make_error(Errc::invalid_metainfo,
                              "the .torrent is " + std::to_string(req.metainfo.size()) +
                                  " bytes; the limit is " +
                                  std::to_string(m.cfg.torrent.max_metainfo_bytes));
        std::shared_ptr<lt::torrent_info> ti;
        try {
            ti = std::make_shared<lt::torrent_info>(lt::span<char const>(req.metainfo), ec,
                                                    lt::from_span);
        } catch (std::exception const& ex) {
            return make_error(Errc::invalid_metainfo,
                              std::string("invalid .torrent: ") + ex.what());
        }
        if (ec)
            return make_error(Errc::invalid_metainfo, "invalid .torrent: " + ec.message());
        atp.ti = std::move(ti);
        row.source_kind = "metainfo";
        row.source.assign(req.metainfo.begin(), req.metainfo.end());
    } else {
        atp = lt::parse_magnet_uri(req.magnet, ec);
        if (ec)
            return make_error(Errc::invalid_magnet, "invalid magnet link: " + ec.message());
        row.source_kind = "magnet";
        row.source.assign(req.magnet.begin(), req.magnet.end());
    }
    auto save = confine(req.save_path.empty() ? m.cfg.torrent.default_save_path : req.save_path,
                        m.cfg.torrent.allowed_roots);
    if (!save)
        return make_error(Errc::path_not_allowed, "save_path: " + save.error().message);
    auto id = id_of(atp.ti ? atp.ti->info_hashes() : atp.info_hashes);
    auto name = atp.ti ? atp.ti->name() : (atp.name.empty() ? id : atp.name);

    std::lock_guard add_lock(m.add_mutex);
    {
        std::lock_guard lock(m.mutex);
        if (auto it = m.torrents.find(id); it != m.torrents.end())
            return AddResult{id, it->second.have_status ? it->second.status.name : name, false};
    }
    TorrentMeta meta;
    meta.labels = req.labels;
    meta.added_time = now_unix();
    meta.stopped = req.paused;
    atp.save_path = save->string();
    atp.flags &= ~(lt::torrent_flags::paused | lt::torrent_flags::auto_managed);
    atp.flags |= req.paused ? lt::torrent_flags::paused : lt::torrent_flags::auto_managed;
    if (req.seed_mode)
        atp.flags |= lt::torrent_flags::seed_mode;
    if (!m.pex)
        atp.flags |= lt::torrent_flags::disable_pex;
    auto h = m.ses->add_torrent(std::move(atp), ec);
    if (ec)
        return make_error(Errc::invalid_metainfo,
                          "libtorrent refused the torrent: " + ec.message());

    row.id = id;
    row.save_path = save->string();
    row.meta_json = meta.to_json().dump();
    row.added_time = meta.added_time;
    auto err =
        ledger::StateStore::wait([&](auto done) { m.store.insert_torrent(row, std::move(done)); });
    if (!err.empty()) {
        m.ses->remove_torrent(h);
        return make_error(Errc::storage_failed, "cannot record the torrent in state.db: " + err);
    }
    Entry e;
    e.id = id;
    e.handle = h;
    e.meta = meta;
    e.save_path = row.save_path;
    e.source_is_magnet = row.source_kind == "magnet";
    e.status = h.status(kStatusFlags);
    e.have_status = true;
    json note;
    {
        std::lock_guard lock(m.mutex);
        e.seq = m.next_seq++;
        auto& stored = m.torrents.emplace(id, std::move(e)).first->second;
        note = m.summary(stored);
    }
    note["save_path"] = row.save_path;
    note["labels"] = req.labels;
    m.events.publish("torrent.added", std::move(note));
    m.ses->post_torrent_updates(kStatusFlags);
    spdlog::info("added torrent {} ({})", name, id);
    return AddResult{id, name, true};
}

Status Engine::remove(std::vector<std::string> const& ids, bool delete_data)
{
    auto& m = *impl_;
    std::vector<std::pair<std::string, lt::torrent_handle>> gone;
    std::vector<json> notes;
    auto st = m.for_each_id(ids, [&](Entry& e) {
        gone.emplace_back(e.id, e.handle);
        notes.push_back({{"id", e.id},
                         {"name", e.have_status ? e.status.name : e.id},
                         {"deleted_data", delete_data}});
    });
    if (!st)
        return st;
    for (auto const& [id, h] : gone) {
        m.ses->remove_torrent(h, delete_data ? lt::session::delete_files : lt::remove_flags_t{});
        {
            std::lock_guard lock(m.mutex);
            m.torrents.erase(id);
        }
        auto err = ledger::StateStore::wait(
            [&](auto done) { m.store.remove_torrent(id, std::move(done)); });
        if (!err.empty())
            return make_error(Errc::storage_failed,
                              "cannot remove " + id + " from state.db: " + err);
        spdlog::info("removed torrent {}{}", id, delete_data ? " and its data" : "");
    }
    for (auto& n : notes)
        m.events.publish("torrent.removed", std::move(n));
    return Ok{};
}

Status Engine::start_torrents(std::vector<std::string> const& ids)
{
    auto& m = *impl_;
    auto st = m.for_each_id(ids, [](Entry& e) {
        e.meta.stopped = false;
        e.handle.clear_error();
        e.handle.set_flags(lt::torrent_flags::auto_managed);
        e.handle.resume();
        e.status.flags |= lt::torrent_flags::auto_managed;
        e.status.flags &= ~lt::torrent_flags::paused;
        e.dirty = true;
    });
    if (!st)
        return st;
    for (auto const& id : ids)
        if (auto err = m.persist_meta(id); !err.empty())
            return make_error(Errc::storage_failed, err);
    m.ses->post_torrent_updates(kStatusFlags);
    return Ok{};
}

Status Engine::stop_torrents(std::vector<std::string> const& ids)
{
    auto& m = *impl_;
    auto st = m.for_each_id(ids, [](Entry& e) {
        e.meta.stopped = true;
        e.handle.unset_flags(lt::torrent_flags::auto_managed);
        e.handle.pause();
        e.status.flags &= ~lt::torrent_flags::auto_managed;
        e.status.flags |= lt::torrent_flags::paused;
        e.dirty = true;
    });
    if (!st)
        return st;
    for (auto const& id : ids)
        if (auto err = m.persist_meta(id); !err.empty())
            return make_error(Errc::storage_failed, err);
    m.ses->post_torrent_updates(kStatusFlags);
    return Ok{};
}

Status Engine::recheck(std::vector<std::string> const& ids)
{
    auto st = impl_->for_each_id(ids, [](Entry& e) { e.handle.force_recheck(); });
    impl_->ses->post_torrent_updates(kStatusFlags);
    return st;
}

Status Engine::reannounce(std::vector<std::string> const& ids)
{
    return impl_->for_each_id(ids, [](Entry& e) { e.handle.force_reannounce(); });
}

Status Engine::move(std::string const& id, std::string const& path)
{
    auto& m = *impl_;
    auto target = confine(path, m.cfg.torrent.allowed_roots);
    if (!target)
        return make_error(Errc::path_not_allowed, "path: " + target.error().message);
    std::error_code ec;
    fs::create_directories(*target, ec);
    if (ec)
        return make_error(Errc::storage_failed,
                          "cannot create " + target->string() + ": " + ec.message());
    return m.for_each_id({id}, [&](Entry& e) {
        e.handle.move_storage(target->string(), lt::move_flags_t::dont_replace);
    });
}

} // namespace seedbox::daemon
