// session.settings / session.set_settings / session.stats, and the libtorrent settings_pack the
// daemon starts from.
#include "daemon/torrent/engine_impl.h"

#include "daemon/base/listen_check.h"

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
std::vector<std::string> listening_list(std::set<lt::tcp::endpoint> const& sockets)
{
    std::vector<std::string> out;
    for (auto const& ep : sockets) {
        auto addr = ep.address().to_string();
        if (auto pct = addr.find('%'); pct != std::string::npos)
            addr.erase(pct); // a link-local scope: the port and address are what a peer dials
        out.push_back(ep.address().is_v6() ? "[" + addr + "]:" + std::to_string(ep.port())
                                           : addr + ":" + std::to_string(ep.port()));
    }
    return out;
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

// A value the config key table already held to its declared range, which fits libtorrent's int.
int narrow(std::int64_t v)
{
    return static_cast<int>(std::clamp<std::int64_t>(v, INT32_MIN, INT32_MAX));
}

// Where each BitTorrent session setting lives in libtorrent. Which keys are session settings,
// their types, ranges, defaults and help come from the config key table (config/keys.cpp,
// Apply::session); this table only maps them, and session_setting_keys() refuses to run when the
// two name different keys. Settings without pack functions are the engine's own, kept in
// cfg.bt: pex (a flag on each torrent in libtorrent), the alternative speed limits and their
// schedule (which decide the rate limits libtorrent gets), and the default share limits.
struct LtSetting {
    std::string_view key; // the config key
    void (*to_pack)(lt::settings_pack&, config::BtConfig const&);
    SettingValue (*from_pack)(lt::settings_pack const&);
};

template <auto Member, int Name> LtSetting int_setting(std::string_view key)
{
    return {key,
            [](lt::settings_pack& p, config::BtConfig const& bt) {
                p.set_int(Name, narrow(bt.*Member));
            },
            [](lt::settings_pack const& p) { return SettingValue(std::int64_t{p.get_int(Name)}); }};
}

template <auto Member, int Name> LtSetting bool_setting(std::string_view key)
{
    return {key,
            [](lt::settings_pack& p, config::BtConfig const& bt) { p.set_bool(Name, bt.*Member); },
            [](lt::settings_pack const& p) { return SettingValue(p.get_bool(Name)); }};
}

using Bt = config::BtConfig;
using Pack = lt::settings_pack;

std::vector<LtSetting> const kLtSettings = {
    int_setting<&Bt::download_rate_limit, Pack::download_rate_limit>("bt.download_rate_limit"),
    int_setting<&Bt::upload_rate_limit, Pack::upload_rate_limit>("bt.upload_rate_limit"),
    int_setting<&Bt::connections_limit, Pack::connections_limit>("bt.connections_limit"),
    int_setting<&Bt::disk_threads, Pack::aio_threads>("bt.disk_threads"),
    int_setting<&Bt::send_buffer_watermark, Pack::send_buffer_watermark>(
        "bt.send_buffer_watermark"),
    int_setting<&Bt::active_downloads, Pack::active_downloads>("bt.active_downloads"),
    int_setting<&Bt::active_seeds, Pack::active_seeds>("bt.active_seeds"),
    int_setting<&Bt::active_limit, Pack::active_limit>("bt.active_limit"),
    {"bt.encryption",
     [](Pack& p, Bt const& bt) {
         p.set_int(Pack::in_enc_policy, policy_of(bt.encryption));
         p.set_int(Pack::out_enc_policy, policy_of(bt.encryption));
     },
     [](Pack const& p) { return SettingValue(policy_name(p.get_int(Pack::out_enc_policy))); }},
    bool_setting<&Bt::dht, Pack::enable_dht>("bt.dht"),
    bool_setting<&Bt::lsd, Pack::enable_lsd>("bt.lsd"),
    bool_setting<&Bt::upnp, Pack::enable_upnp>("bt.upnp"),
    bool_setting<&Bt::natpmp, Pack::enable_natpmp>("bt.natpmp"),
    {"bt.pex", nullptr, nullptr},
    {"bt.alt_download_rate_limit", nullptr, nullptr},
    {"bt.alt_upload_rate_limit", nullptr, nullptr},
    {"bt.alt_speed", nullptr, nullptr},
    {"bt.alt_speed_schedule", nullptr, nullptr},
    {"bt.alt_speed_begin", nullptr, nullptr},
    {"bt.alt_speed_end", nullptr, nullptr},
    {"bt.alt_speed_days", nullptr, nullptr},
    {"bt.ratio_limit", nullptr, nullptr},
    {"bt.seed_time_limit", nullptr, nullptr},
    {"bt.idle_limit", nullptr, nullptr},
    {"bt.limit_action", nullptr, nullptr},
    {"bt.blocklist", nullptr, nullptr},
    {"bt.blocklist_url", nullptr, nullptr},
    {"bt.listen_interfaces",
     [](Pack& p, Bt const& bt) { p.set_str(Pack::listen_interfaces, bt.listen_interfaces); },
     [](Pack const& p) { return SettingValue(p.get_str(Pack::listen_interfaces)); }},
};

// "bt.dht" -> "dht": the name session.settings uses.
std::string_view rpc_name(std::string_view key)
{
    return key.substr(3);
}

LtSetting const* lt_setting(std::string_view rpc)
{
    for (auto const& s : kLtSettings)
        if (rpc_name(s.key) == rpc)
            return &s;
    return nullptr;
}

// The listen_interfaces a change sets ("" when it sets none), once this host can listen there.
// Fail closed: an address this host does not have, or a device that does not exist, is refused
// before libtorrent is told (it would log the failure and listen on less).
Result<std::string> checked_listen_interfaces(lt::settings_pack const& p, json const& changes)
{
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
    return new_interfaces;
}

// Writes the settings changed over RPC to state.db, where start() finds them.
Status store_settings(ledger::StateStore& store, json const& stored)
{
    auto text = stored.dump();
    auto err = store.wait([&](auto done) {
        store.put_blob("settings", ledger::Blob(text.begin(), text.end()), std::move(done));
    });
    if (!err.empty())
        return make_error(Errc::storage_failed, "cannot store settings: " + err);
    return Ok{};
}

} // namespace

std::vector<Engine::SettingKey> const& Engine::session_setting_keys()
{
    static std::vector<SettingKey> const keys = [] {
        std::vector<SettingKey> out;
        for (auto const& k : config::keys()) {
            if (k.apply != config::Apply::session)
                continue;
            if (k.name.rfind("bt.", 0) != 0 || !lt_setting(rpc_name(k.name)))
                throw std::logic_error("session setting " + k.name + " has no libtorrent mapping");
            out.push_back({std::string(rpc_name(k.name)), k.type, k.help, k.min.value_or(0),
                           k.max.value_or(0), k.choices});
        }
        if (out.size() != kLtSettings.size())
            throw std::logic_error("a libtorrent mapping names a key that is no session setting");
        // Not a config key: the port of every listen address at once.
        out.push_back({"listen_port", "integer",
                       "set: change the port of every listen address; get: bound port", 0, 65535});
        return out;
    }();
    return keys;
}

void Engine::Impl::set_idle(bool on)
{
    idle = on;
    spdlog::debug("engine {}", on ? "idle: ticking every 10 s" : "active: ticking every second");
    lt::settings_pack p; // libtorrent's own tick: 1 s is its slowest, 500 ms its default
    p.set_int(lt::settings_pack::tick_interval, on ? 1000 : 500);
    // While idle, a peer connecting wakes the engine at once (peer_connect_alert); while active
    // that alert would only cost.
    int mask = 0;
    {
        std::lock_guard lock(mutex);
        mask = applied_settings.get_int(lt::settings_pack::alert_mask);
    }
    p.set_int(lt::settings_pack::alert_mask,
              on ? mask | static_cast<int>(static_cast<std::uint32_t>(lt::alert_category::connect))
                 : mask);
    hand_settings_to_libtorrent(*ses, std::move(p));
}

lt::settings_pack Engine::Impl::base_settings() const
{
    auto p = lt::high_performance_seed();
    auto const& bt = cfg.bt;
    p.set_int(lt::settings_pack::alert_mask,
              lt::alert_category::error | lt::alert_category::status | lt::alert_category::storage |
                  lt::alert_category::performance_warning | lt::alert_category::ip_block);
    p.set_int(lt::settings_pack::alert_queue_size, narrow(bt.alert_queue_size));
    p.set_str(lt::settings_pack::user_agent, bt.user_agent);
    for (auto const& s : kLtSettings)
        if (s.to_pack)
            s.to_pack(p, bt);
    p.set_bool(lt::settings_pack::dont_count_slow_torrents, true);
    p.set_int(lt::settings_pack::file_pool_size, narrow(bt.file_pool_size));
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

SessionSettings Engine::Impl::current_settings() const
{
    lt::settings_pack p;
    int port = 0;
    {
        std::lock_guard lock(mutex);
        p = applied_settings;
        port = listen_port;
    }
    json own; // the engine's own settings, as the config file shows them
    {
        std::lock_guard lock(mutex);
        own = config::to_json(cfg)["bt"];
    }
    SessionSettings out;
    for (auto const& s : kLtSettings) {
        auto const name = std::string(rpc_name(s.key));
        if (s.from_pack)
            out[name] = s.from_pack(p);
        else if (auto const& v = own[name]; v.is_boolean())
            out[name] = v.get<bool>();
        else if (v.is_number_integer())
            out[name] = v.get<std::int64_t>();
        else if (v.is_number())
            out[name] = v.get<double>();
        else
            out[name] = v.get<std::string>();
    }
    out["pex"] = pex.load();
    out["listen_port"] = std::int64_t{port};
    return out;
}

std::string Engine::Impl::listen_interfaces_base(lt::settings_pack const& p) const
{
    if (p.has_val(lt::settings_pack::listen_interfaces))
        return p.get_str(lt::settings_pack::listen_interfaces);
    std::lock_guard lock(mutex);
    return applied_settings.get_str(lt::settings_pack::listen_interfaces);
}

Status Engine::Impl::pack_settings(json const& changes, lt::settings_pack& p, json& own) const
{
    config::Config trial; // each value is checked by the config key table, as in the file
    for (auto const& [key, v] : changes.items()) {
        auto bad = [&key = key](std::string const& why) {
            return make_error(Errc::invalid_argument, "settings." + key + ": " + why);
        };
        if (key == "listen_port") {
            if (!v.is_number_integer() || v.get<std::int64_t>() < 0 ||
                v.get<std::int64_t>() > 65535)
                return bad("must be an integer between 0 and 65535");
            std::string base = listen_interfaces_base(p);
            p.set_str(lt::settings_pack::listen_interfaces, with_listen_port(base, v.get<int>()));
            continue;
        }
        auto const* s = lt_setting(key);
        if (!s)
            return make_error(Errc::invalid_argument,
                              "settings: unknown key \"" + key + "\" (see session.settings)");
        if (auto why = config::set_value(trial, s->key, v); !why.empty())
            return bad(why);
        if (s->to_pack)
            s->to_pack(p, trial.bt);
        else
            own[key] = v;
    }
    return Ok{};
}

std::pair<int, int> Engine::Impl::effective_rates() const
{
    if (cfg.bt.alt_speed)
        return {narrow(cfg.bt.alt_download_rate_limit), narrow(cfg.bt.alt_upload_rate_limit)};
    return {applied_settings.get_int(lt::settings_pack::download_rate_limit),
            applied_settings.get_int(lt::settings_pack::upload_rate_limit)};
}

json Engine::Impl::commit_settings(json const& changes, lt::settings_pack&& p,
                                   std::string const& new_interfaces, json const& own)
{
    std::lock_guard lock(mutex);
    if (!new_interfaces.empty() &&
        new_interfaces != applied_settings.get_str(lt::settings_pack::listen_interfaces))
        std::erase_if(listening, [&](lt::tcp::endpoint const& ep) {
            return !listen_interfaces_cover(new_interfaces, ep.address(), ep.port());
        });
    merge_settings(applied_settings, p); // the normal rate limits, whichever are in force
    for (auto const& [key, v] : own.items())
        (void)config::set_value(cfg, "bt." + key, v); // checked by pack_settings
    auto const [down, up] = effective_rates();
    p.set_int(lt::settings_pack::download_rate_limit, down);
    p.set_int(lt::settings_pack::upload_rate_limit, up);
    if (payments)
        payments->set_upload_limit(up);
    // Under the mutex, so concurrent changes reach libtorrent in the order they were recorded
    // (apply_settings only posts to the network thread).
    hand_settings_to_libtorrent(*ses, std::move(p));
    for (auto const& [key, v] : changes.items())
        runtime_settings[key] = v;
    if (own.contains("pex")) {
        bool const want_pex = own["pex"].get<bool>();
        for (auto& [id, e] : torrents) {
            if (!e.has_handle())
                continue; // still loading: loads with the pex setting it finds
            if (want_pex)
                e.handle.unset_flags(lt::torrent_flags::disable_pex);
            else
                e.handle.set_flags(lt::torrent_flags::disable_pex);
        }
    }
    return runtime_settings;
}

Status Engine::Impl::apply_settings(json const& changes, bool persist)
{
    if (!changes.is_object())
        return make_error(Errc::invalid_argument, "settings must be an object");
    lt::settings_pack p;
    json own = json::object();
    if (auto st = pack_settings(changes, p, own); !st)
        return st;
    auto new_interfaces = checked_listen_interfaces(p, changes);
    if (!new_interfaces)
        return new_interfaces.error();
    json stored = commit_settings(changes, std::move(p), *new_interfaces, own);
    if (own.contains("pex"))
        pex = own["pex"].get<bool>();
    if (own.contains("blocklist"))
        blocklist_switched(own["blocklist"].get<bool>());
    for (auto const* key :
         {"alt_speed_schedule", "alt_speed_begin", "alt_speed_end", "alt_speed_days"})
        if (own.contains(key)) { // the schedule changed: it decides again, now
            boost::asio::post(io, [this] { check_alt_schedule(true); });
            break;
        }
    if (persist)
        return store_settings(store, stored);
    return Ok{};
}

SessionSettings Engine::session_settings()
{
    return impl_->current_settings();
}

Status Engine::set_session_settings(SessionSettings const& typed)
{
    // As state.db keeps them, and as the config key table's checks read them.
    json changes = json::object();
    for (auto const& [key, value] : typed)
        std::visit([&changes, &key = key](auto const& v) { changes[key] = v; }, value);
    auto st = impl_->apply_settings(changes, true);
    if (st)
        spdlog::info("session settings changed: {}", changes.dump());
    return st;
}

SessionStats Engine::session_stats()
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
    SessionStats st;
    for (auto const& [id, e] : m.torrents)
        ++st.torrents_by_state[name(m.torrent_state(e))];
    st.download_rate = down_rate;
    st.upload_rate = up_rate;
    st.downloaded = at(m.counters, recv);
    st.uploaded = at(m.counters, sent);
    st.torrents = static_cast<std::int64_t>(m.torrents.size());
    st.peers = at(m.counters, peers);
    st.dht_nodes = at(m.counters, dht_nodes);
    st.disk_queued_jobs = at(m.counters, disk_jobs);
    st.disk_blocks_read = at(m.counters, disk_read);
    st.disk_blocks_written = at(m.counters, disk_write);
    st.alerts_handled = static_cast<std::int64_t>(m.alerts_handled.load());
    st.alerts_dropped = static_cast<std::int64_t>(m.alerts_dropped.load());
    st.alerts_last_batch = static_cast<std::int64_t>(m.alerts_last_batch.load());
    st.alert_queue_size = m.cfg.bt.alert_queue_size;
    st.listen_port = m.listen_port;
    st.listening = listening_list(m.listening);
    st.uptime = now_unix() - m.started_time;
    {
        std::lock_guard filter_lock(m.filter_mutex);
        st.blocklist_rules = m.list_info.enabled ? m.list_info.rules : 0;
        st.bans = static_cast<std::int64_t>(m.ban_list.size());
    }
    st.peers_blocked = m.peers_blocked.load();
    if (m.payments) // btt_pay: uploads and connections by payment class
        st.payments = m.payments->class_figures();
    return st;
}

} // namespace seedbox::daemon
