// session.settings / session.set_settings / session.stats, and the libtorrent settings_pack the
// daemon starts from.
#include "daemon/torrent/engine_impl.h"

#include "daemon/listen_check.h"

#include <libtorrent/session_stats.hpp>
#include <libtorrent/settings_pack.hpp>
#include <spdlog/spdlog.h>

namespace seedbox::daemon {

using json = nlohmann::json;

namespace {

// libtorrent copies the pack into a shared_ptr for its network thread; whichever thread drops the
// last reference frees it, and TSan cannot see the reference count's atomics inside the
// uninstrumented library. tests/tsan.supp names hand_settings_to_libtorrent: TSan's stack holds
// only instrumented frames, each at its call site, so the frame that shows is the caller of the
// function that enters libtorrent. Both stay out of line and end in a barrier (no tail call).
[[gnu::noinline]] void apply_in_libtorrent(lt::session& ses, lt::settings_pack&& p)
{
    ses.apply_settings(std::move(p));
    asm volatile("" ::: "memory");
}

[[gnu::noinline]] void hand_settings_to_libtorrent(lt::session& ses, lt::settings_pack&& p)
{
    apply_in_libtorrent(ses, std::move(p));
    asm volatile("" ::: "memory");
}

// Copies every setting that `from` holds into `to`.
void merge_settings(lt::settings_pack& to, lt::settings_pack const& from)
{
    for (int i = 0; i < lt::settings_pack::num_string_settings; ++i)
        if (int const n = lt::settings_pack::string_type_base + i; from.has_val(n))
            to.set_str(n, from.get_str(n));
    for (int i = 0; i < lt::settings_pack::num_int_settings; ++i)
        if (int const n = lt::settings_pack::int_type_base + i; from.has_val(n))
            to.set_int(n, from.get_int(n));
    for (int i = 0; i < lt::settings_pack::num_bool_settings; ++i)
        if (int const n = lt::settings_pack::bool_type_base + i; from.has_val(n))
            to.set_bool(n, from.get_bool(n));
}

// ["0.0.0.0:51413", "[::1]:51413"]: what session.stats reports as listening.
json listening_json(std::set<lt::tcp::endpoint> const& sockets)
{
    json out = json::array();
    for (auto const& ep : sockets) {
        auto addr = ep.address().to_string();
        if (auto pct = addr.find('%'); pct != std::string::npos)
            addr.erase(pct); // a link-local scope: the port and address are what a peer dials
        out.push_back(ep.address().is_v6() ? "[" + addr + "]:" + std::to_string(ep.port())
                                           : addr + ":" + std::to_string(ep.port()));
    }
    return out;
}

int clamp_int(std::int64_t v)
{
    return static_cast<int>(std::clamp<std::int64_t>(v, -1, INT32_MAX));
}

lt::settings_pack::enc_policy policy_of(std::string const& s)
{
    if (s == "forced")
        return lt::settings_pack::pe_forced;
    if (s == "disabled")
        return lt::settings_pack::pe_disabled;
    return lt::settings_pack::pe_enabled;
}

std::string policy_name(int p)
{
    if (p == lt::settings_pack::pe_forced)
        return "forced";
    if (p == lt::settings_pack::pe_disabled)
        return "disabled";
    return "enabled";
}

using SettingKey = Engine::SettingKey;

std::vector<SettingKey> const kKeys = {
    {"download_rate_limit", "integer", "global download limit, bytes/s (0 = unlimited)", 0,
     INT32_MAX},
    {"upload_rate_limit", "integer", "global upload limit, bytes/s (0 = unlimited)", 0, INT32_MAX},
    {"connections_limit", "integer", "global peer connection limit", 2, 1'000'000},
    {"active_downloads", "integer", "queued torrents downloading at once (-1 = unlimited)", -1,
     1'000'000},
    {"active_seeds", "integer", "queued torrents seeding at once (-1 = unlimited)", -1, 1'000'000},
    {"active_limit", "integer", "queued torrents active at once (-1 = unlimited)", -1, 1'000'000},
    {"encryption", "string", "peer protocol encryption", 0, 0, {"enabled", "forced", "disabled"}},
    {"dht", "boolean", "DHT on/off"},
    {"pex", "boolean", "peer exchange on/off (applies to every torrent)"},
    {"lsd", "boolean", "local service discovery on/off"},
    {"upnp", "boolean", "UPnP port mapping on/off"},
    {"natpmp", "boolean", "NAT-PMP port mapping on/off"},
    {"listen_interfaces", "string", "BitTorrent listen addresses, ADDR:PORT,..."},
    {"listen_port", "integer", "set: change the port of every listen address; get: bound port", 0,
     65535},
};

} // namespace

std::vector<Engine::SettingKey> const& Engine::session_setting_keys()
{
    return kKeys;
}

lt::settings_pack Engine::Impl::base_settings() const
{
    auto p = lt::high_performance_seed();
    auto const& bt = cfg.bt;
    p.set_int(lt::settings_pack::alert_mask,
              lt::alert_category::error | lt::alert_category::status | lt::alert_category::storage |
                  lt::alert_category::performance_warning);
    p.set_int(lt::settings_pack::alert_queue_size, clamp_int(bt.alert_queue_size));
    p.set_str(lt::settings_pack::listen_interfaces, bt.listen_interfaces);
    p.set_str(lt::settings_pack::user_agent, bt.user_agent);
    p.set_bool(lt::settings_pack::enable_dht, bt.dht);
    p.set_bool(lt::settings_pack::enable_lsd, bt.lsd);
    p.set_bool(lt::settings_pack::enable_upnp, bt.upnp);
    p.set_bool(lt::settings_pack::enable_natpmp, bt.natpmp);
    p.set_int(lt::settings_pack::in_enc_policy, policy_of(bt.encryption));
    p.set_int(lt::settings_pack::out_enc_policy, policy_of(bt.encryption));
    p.set_int(lt::settings_pack::download_rate_limit, clamp_int(bt.download_rate_limit));
    p.set_int(lt::settings_pack::upload_rate_limit, clamp_int(bt.upload_rate_limit));
    p.set_int(lt::settings_pack::connections_limit, clamp_int(bt.connections_limit));
    p.set_int(lt::settings_pack::active_downloads, clamp_int(bt.active_downloads));
    p.set_int(lt::settings_pack::active_seeds, clamp_int(bt.active_seeds));
    p.set_int(lt::settings_pack::active_limit, clamp_int(bt.active_limit));
    p.set_bool(lt::settings_pack::dont_count_slow_torrents, true);
    p.set_int(lt::settings_pack::file_pool_size, clamp_int(bt.file_pool_size));
    // A finite slot count keeps choking meaningful (high_performance_seed sets -1).
    p.set_int(lt::settings_pack::unchoke_slots_limit, 64);
    p.set_int(lt::settings_pack::seed_choking_algorithm, lt::settings_pack::fastest_upload);
    p.set_int(lt::settings_pack::stop_tracker_timeout, 2);
    // high_performance_seed() drops a peer after one failed connect; keep libtorrent's default so
    // a peer that is briefly unreachable is retried.
    p.set_int(lt::settings_pack::max_failcount, 3);
    // Loopback tests and LAN seedboxes run several peers per IP.
    p.set_bool(lt::settings_pack::allow_multiple_connections_per_ip, true);
    return p;
}

json Engine::Impl::current_settings() const
{
    lt::settings_pack p;
    int port = 0;
    {
        std::lock_guard lock(mutex);
        p = applied_settings;
        port = listen_port;
    }
    return {{"download_rate_limit", p.get_int(lt::settings_pack::download_rate_limit)},
            {"upload_rate_limit", p.get_int(lt::settings_pack::upload_rate_limit)},
            {"connections_limit", p.get_int(lt::settings_pack::connections_limit)},
            {"active_downloads", p.get_int(lt::settings_pack::active_downloads)},
            {"active_seeds", p.get_int(lt::settings_pack::active_seeds)},
            {"active_limit", p.get_int(lt::settings_pack::active_limit)},
            {"encryption", policy_name(p.get_int(lt::settings_pack::out_enc_policy))},
            {"dht", p.get_bool(lt::settings_pack::enable_dht)},
            {"pex", pex.load()},
            {"lsd", p.get_bool(lt::settings_pack::enable_lsd)},
            {"upnp", p.get_bool(lt::settings_pack::enable_upnp)},
            {"natpmp", p.get_bool(lt::settings_pack::enable_natpmp)},
            {"listen_interfaces", p.get_str(lt::settings_pack::listen_interfaces)},
            {"listen_port", port}};
}

Status Engine::Impl::apply_settings(json const& changes, bool persist)
{
    if (!changes.is_object())
        return make_error(Errc::invalid_argument, "settings must be an object");
    lt::settings_pack p;
    std::optional<bool> want_pex;
    for (auto const& [key, v] : changes.items()) {
        auto const k = std::find_if(kKeys.begin(), kKeys.end(),
                                    [&key = key](SettingKey const& s) { return key == s.name; });
        if (k == kKeys.end())
            return make_error(Errc::invalid_argument,
                              "settings: unknown key \"" + key + "\" (see session.settings)");
        std::string type = k->type;
        if ((type == "boolean" && !v.is_boolean()) || (type == "string" && !v.is_string()) ||
            (type == "integer" && !v.is_number_integer()))
            return make_error(Errc::invalid_argument, "settings." + key + ": expected " +
                                                          (type == "integer" ? "an " : "a ") +
                                                          type);
        auto bad = [&key = key](std::string const& why) {
            return make_error(Errc::invalid_argument, "settings." + key + ": " + why);
        };
        if (key == "encryption") {
            auto s = v.get<std::string>();
            if (s != "enabled" && s != "forced" && s != "disabled")
                return bad("must be enabled, forced or disabled");
            p.set_int(lt::settings_pack::in_enc_policy, policy_of(s));
            p.set_int(lt::settings_pack::out_enc_policy, policy_of(s));
        } else if (key == "download_rate_limit" || key == "upload_rate_limit") {
            auto n = v.get<std::int64_t>();
            if (n < 0 || n > INT32_MAX)
                return bad("must be between 0 and 2147483647");
            p.set_int(key == "download_rate_limit" ? lt::settings_pack::download_rate_limit
                                                   : lt::settings_pack::upload_rate_limit,
                      static_cast<int>(n));
        } else if (key == "connections_limit") {
            auto n = v.get<std::int64_t>();
            if (n < 2 || n > 1000000)
                return bad("must be between 2 and 1000000");
            p.set_int(lt::settings_pack::connections_limit, static_cast<int>(n));
        } else if (key == "active_downloads" || key == "active_seeds" || key == "active_limit") {
            auto n = v.get<std::int64_t>();
            if (n < -1 || n > 1000000)
                return bad("must be between -1 and 1000000");
            auto name = key == "active_downloads" ? lt::settings_pack::active_downloads
                        : key == "active_seeds"   ? lt::settings_pack::active_seeds
                                                  : lt::settings_pack::active_limit;
            p.set_int(name, static_cast<int>(n));
        } else if (key == "dht") {
            p.set_bool(lt::settings_pack::enable_dht, v.get<bool>());
        } else if (key == "lsd") {
            p.set_bool(lt::settings_pack::enable_lsd, v.get<bool>());
        } else if (key == "upnp") {
            p.set_bool(lt::settings_pack::enable_upnp, v.get<bool>());
        } else if (key == "natpmp") {
            p.set_bool(lt::settings_pack::enable_natpmp, v.get<bool>());
        } else if (key == "pex") {
            want_pex = v.get<bool>();
        } else if (key == "listen_interfaces") {
            if (v.get<std::string>().empty())
                return bad("must not be empty");
            p.set_str(lt::settings_pack::listen_interfaces, v.get<std::string>());
        } else if (key == "listen_port") {
            auto n = v.get<std::int64_t>();
            if (n < 0 || n > 65535)
                return bad("must be between 0 and 65535");
            std::string base;
            if (p.has_val(lt::settings_pack::listen_interfaces)) {
                base = p.get_str(lt::settings_pack::listen_interfaces);
            } else {
                std::lock_guard lock(mutex);
                base = applied_settings.get_str(lt::settings_pack::listen_interfaces);
            }
            p.set_str(lt::settings_pack::listen_interfaces,
                      with_listen_port(base, static_cast<int>(n)));
        }
    }
    // Fail closed: an address this host does not have, or a device that does not exist, is
    // refused before libtorrent is told (it would log the failure and listen on less).
    std::string new_interfaces;
    if (p.has_val(lt::settings_pack::listen_interfaces)) {
        new_interfaces = p.get_str(lt::settings_pack::listen_interfaces);
        if (auto why = listen_interfaces_problem(new_interfaces); !why.empty())
            return make_error(Errc::invalid_argument,
                              std::string(changes.contains("listen_interfaces")
                                              ? "settings.listen_interfaces: "
                                              : "settings.listen_port: ") +
                                  why);
    }
    json stored;
    {
        std::lock_guard lock(mutex);
        if (!new_interfaces.empty() &&
            new_interfaces != applied_settings.get_str(lt::settings_pack::listen_interfaces))
            std::erase_if(listening, [&](lt::tcp::endpoint const& ep) {
                return !listen_interfaces_cover(new_interfaces, ep.address(), ep.port());
            });
        merge_settings(applied_settings, p);
        if (payments)
            payments->set_upload_limit(
                applied_settings.get_int(lt::settings_pack::upload_rate_limit));
        // Under the mutex, so concurrent changes reach libtorrent in the order they were recorded
        // (apply_settings only posts to the network thread).
        hand_settings_to_libtorrent(*ses, std::move(p));
        for (auto const& [key, v] : changes.items())
            runtime_settings[key] = v;
        if (want_pex) {
            for (auto& [id, e] : torrents) {
                if (*want_pex)
                    e.handle.unset_flags(lt::torrent_flags::disable_pex);
                else
                    e.handle.set_flags(lt::torrent_flags::disable_pex);
            }
        }
        stored = runtime_settings;
    }
    if (want_pex)
        pex = *want_pex;
    if (persist) {
        auto text = stored.dump();
        auto err = ledger::StateStore::wait([&](auto done) {
            store.put_blob("settings", ledger::Blob(text.begin(), text.end()), std::move(done));
        });
        if (!err.empty())
            return make_error(Errc::storage_failed, "cannot store settings: " + err);
    }
    return Ok{};
}

json Engine::session_settings()
{
    return impl_->current_settings();
}

Status Engine::set_session_settings(json const& changes)
{
    auto st = impl_->apply_settings(changes, true);
    if (st)
        spdlog::info("session settings changed: {}", changes.dump());
    return st;
}

json Engine::session_stats()
{
    auto& m = *impl_;
    static int const sent = lt::find_metric_idx("net.sent_payload_bytes");
    static int const recv = lt::find_metric_idx("net.recv_payload_bytes");
    static int const peers = lt::find_metric_idx("peer.num_peers_connected");
    static int const dht_nodes = lt::find_metric_idx("dht.dht_nodes");
    static int const disk_jobs = lt::find_metric_idx("disk.queued_disk_jobs");
    static int const disk_read = lt::find_metric_idx("disk.num_blocks_read");
    static int const disk_write = lt::find_metric_idx("disk.num_blocks_written");
    std::lock_guard lock(m.mutex);
    auto at = [&](std::vector<std::int64_t> const& c, int i) -> std::int64_t {
        return i >= 0 && static_cast<std::size_t>(i) < c.size() ? c[static_cast<std::size_t>(i)]
                                                                : 0;
    };
    std::int64_t up_rate = 0, down_rate = 0;
    if (!m.prev_counters.empty() && !m.counters.empty()) {
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(m.counters_time -
                                                                        m.prev_counters_time)
                      .count();
        if (ms > 0) {
            up_rate = (at(m.counters, sent) - at(m.prev_counters, sent)) * 1000 / ms;
            down_rate = (at(m.counters, recv) - at(m.prev_counters, recv)) * 1000 / ms;
        }
    }
    json by_state = json::object();
    for (auto const& [id, e] : m.torrents)
        by_state[m.state_of(e)] = by_state.value(m.state_of(e), 0) + 1;
    json out = {{"download_rate", down_rate},
                {"upload_rate", up_rate},
                {"downloaded", at(m.counters, recv)},
                {"uploaded", at(m.counters, sent)},
                {"torrents", m.torrents.size()},
                {"torrents_by_state", by_state},
                {"peers", at(m.counters, peers)},
                {"dht_nodes", at(m.counters, dht_nodes)},
                {"disk_queued_jobs", at(m.counters, disk_jobs)},
                {"disk_blocks_read", at(m.counters, disk_read)},
                {"disk_blocks_written", at(m.counters, disk_write)},
                {"alerts_handled", m.alerts_handled.load()},
                {"alerts_dropped", m.alerts_dropped.load()},
                {"alerts_last_batch", m.alerts_last_batch.load()},
                {"alert_queue_size", m.cfg.bt.alert_queue_size},
                {"listen_port", m.listen_port},
                {"listening", listening_json(m.listening)},
                {"uptime", now_unix() - m.started_time}};
    if (m.payments) // btt_pay: uploads and connections by payment class
        out["payments"] = m.payments->class_figures();
    return out;
}

} // namespace seedbox::daemon
