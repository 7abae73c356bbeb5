// Per-torrent details that need a (blocking) libtorrent call: files, peers, trackers, and
// per-torrent settings. Called from RPC worker threads; the handle is copied out of the cache so
// no lock is held across a libtorrent call.
#include "daemon/torrent/engine_impl.h"

#include "config/settings.h"

#include <libtorrent/announce_entry.hpp>
#include <libtorrent/peer_info.hpp>

#include <sstream>
#include <thread>

namespace seedbox::daemon {

using json = nlohmann::json;

namespace {

Result<lt::torrent_handle> handle_of(Engine::Impl& m, std::string const& id)
{
    std::lock_guard lock(m.mutex);
    auto e = m.find(id);
    if (!e)
        return e.error();
    return (*e)->handle;
}

std::string peer_flags(lt::peer_info const& p)
{
    std::string f;
    if (p.flags & lt::peer_info::interesting)
        f += 'd'; // we are interested in it
    if (p.flags & lt::peer_info::remote_interested)
        f += 'u';
    if (p.flags & lt::peer_info::choked)
        f += 'c';
    if (p.flags & lt::peer_info::remote_choked)
        f += 'C';
    if (p.flags & lt::peer_info::rc4_encrypted)
        f += 'E';
    if (p.flags & lt::peer_info::seed)
        f += 'S';
    if (p.source & lt::peer_info::incoming)
        f += 'I';
    return f;
}

bool valid_tracker_url(std::string const& url)
{
    return url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0 ||
           url.rfind("udp://", 0) == 0;
}

// libtorrent announces once per listen socket (IPv4, IPv6, each interface) and info-hash
// (v1, v2). The tracker's status is the best any of them reached: one working announce means
// peers get our address, whatever another interface's route says. Each socket's own status
// is listed under "endpoints".
// A socket that cannot reach the tracker's address family at all skips it ("skipped"); the
// tracker is in error only if no socket got further.
enum class Rank { not_contacted, skipped, error, updating, working };
char const* const kRankNames[] = {"not_contacted", "skipped", "error", "updating", "working"};

char const* name_of(Rank r)
{
    return kRankNames[static_cast<int>(r)];
}

// A status with its message and failure count: one socket's, or the tracker's.
struct AnnounceStatus {
    Rank rank = Rank::not_contacted;
    std::string message;
    int fails = 0;
};

// The swarm figures of the scrapes: the most any socket and info-hash reported (-1 none).
struct Scrape {
    int seeds = -1, leechers = -1, downloaded = -1;
};

// One listen socket's status: the best its info-hashes reached. Adds their scrapes to `scrape`.
AnnounceStatus endpoint_status(lt::announce_endpoint const& ep, Scrape& scrape)
{
    AnnounceStatus out;
    for (auto const& ih : ep.info_hashes) {
        Rank r = ih.updating ? Rank::updating
                 : ih.last_error
                     ? (ih.last_error == lt::errors::announce_skipped ? Rank::skipped : Rank::error)
                 : ih.start_sent ? Rank::working
                                 : Rank::not_contacted;
        std::string m = !ih.message.empty() ? ih.message
                        : ih.last_error && (r == Rank::error || r == Rank::skipped)
                            ? ih.last_error.message()
                            : std::string();
        if (r > out.rank || (r == out.rank && out.message.empty())) {
            out.rank = std::max(out.rank, r);
            out.message = m;
            out.fails = ih.fails;
        }
        scrape.seeds = std::max(scrape.seeds, ih.scrape_complete);
        scrape.leechers = std::max(scrape.leechers, ih.scrape_incomplete);
        scrape.downloaded = std::max(scrape.downloaded, ih.scrape_downloaded);
    }
    return out;
}

// One entry of torrent.trackers: the tracker's best status over its sockets, and each socket's.
json tracker_json(lt::announce_entry const& t)
{
    AnnounceStatus best;
    Scrape scrape;
    json endpoints = json::array();
    for (auto const& ep : t.endpoints) {
        auto const s = endpoint_status(ep, scrape);
        if (s.rank > best.rank || (s.rank == best.rank && best.message.empty())) {
            best.rank = std::max(best.rank, s.rank);
            best.message = s.message;
            best.fails = s.fails;
        }
        std::ostringstream local;
        local << ep.local_endpoint;
        endpoints.push_back({{"local", local.str()},
                             {"status", name_of(s.rank)},
                             {"message", s.message},
                             {"fails", s.fails}});
    }
    return {{"url", t.url},
            {"tier", t.tier},
            {"status", name_of(best.rank == Rank::skipped ? Rank::error : best.rank)},
            {"message", best.message},
            {"seeds", scrape.seeds},
            {"leechers", scrape.leechers},
            {"downloaded", scrape.downloaded},
            {"fails", best.fails},
            {"endpoints", std::move(endpoints)}};
}

// A tracker list of torrent.set_trackers (`what` names it in errors): URLs, one tier each in
// order, or {url, tier} objects. Appends the checked trackers to `out`.
Status parse_tracker_list(json const& list, char const* what, std::vector<lt::announce_entry>& out)
{
    int tier = 0;
    for (auto const& t : list) {
        lt::announce_entry ae;
        if (t.is_string()) {
            ae.url = t.get<std::string>();
            ae.tier = static_cast<std::uint8_t>(tier++);
        } else if (t.is_object() && t.contains("url") && t["url"].is_string()) {
            ae.url = t["url"].get<std::string>();
            auto tr = t.value("tier", tier++);
            if (tr < 0 || tr > 255)
                return make_error(Errc::invalid_tracker,
                                  std::string(what) + ": tier must be 0..255");
            ae.tier = static_cast<std::uint8_t>(tr);
        } else {
            return make_error(Errc::invalid_tracker,
                              std::string(what) + ": each tracker is a URL or {url, tier}");
        }
        if (!valid_tracker_url(ae.url))
            return make_error(Errc::invalid_tracker, std::string(what) + ": \"" + ae.url +
                                                         "\" is not an http(s):// or udp:// URL");
        out.push_back(std::move(ae));
    }
    return Ok{};
}

// torrent.set_trackers' "add" and "remove" applied to the torrent's `trackers`: the ones added
// come after the others (given as URLs, in tiers of their own), those already there are kept.
Status edit_trackers(json const& params, std::vector<lt::announce_entry>& trackers)
{
    std::vector<lt::announce_entry> add;
    if (params.contains("add"))
        if (auto st = parse_tracker_list(params["add"], "add", add); !st)
            return st;
    if (params.contains("remove")) {
        for (auto const& r : params["remove"]) {
            if (!r.is_string())
                return make_error(Errc::invalid_tracker, "remove: expected tracker URLs");
            auto url = r.get<std::string>();
            auto it = std::remove_if(trackers.begin(), trackers.end(),
                                     [&](lt::announce_entry const& a) { return a.url == url; });
            if (it == trackers.end())
                return make_error(Errc::invalid_tracker,
                                  "remove: the torrent has no tracker " + url);
            trackers.erase(it, trackers.end());
        }
    }
    int next_tier = 0;
    for (auto const& r : trackers)
        next_tier = std::max(next_tier, r.tier + 1);
    for (auto& a : add) {
        if (std::none_of(trackers.begin(), trackers.end(),
                         [&](lt::announce_entry const& r) { return r.url == a.url; })) {
            if (!params["add"].empty() && params["add"][0].is_string())
                a.tier = static_cast<std::uint8_t>(std::min(next_tier++, 255));
            trackers.push_back(a);
        }
    }
    return Ok{};
}

// torrent.set's settings, every one checked before any torrent changes.
Status check_torrent_settings(json const& s)
{
    auto bad = [](std::string const& why) { return make_error(Errc::invalid_argument, why); };
    auto int_in = [&](char const* key, std::int64_t lo, std::int64_t hi) -> Status {
        if (!s.contains(key))
            return Ok{};
        auto const& v = s[key];
        if (!v.is_number_integer() ||
            (v.is_number_unsigned() && v.get<std::uint64_t>() > std::uint64_t(hi)) ||
            v.get<std::int64_t>() < lo || v.get<std::int64_t>() > hi)
            return bad(std::string(key) + ": expected an integer " + std::to_string(lo) + ".." +
                       std::to_string(hi));
        return Ok{};
    };
    for (auto const& [key, lo, hi] : {std::tuple{"upload_limit", 0LL, 2147483647LL},
                                      {"download_limit", 0LL, 2147483647LL},
                                      {"max_connections", -1LL, 65535LL},
                                      {"seed_time_limit", -1LL, 1LL << 40}})
        if (auto st = int_in(key, lo, hi); !st)
            return st;
    if (s.contains("sequential") && !s["sequential"].is_boolean())
        return bad("sequential: expected true or false");
    if (s.contains("ratio_limit") &&
        (!s["ratio_limit"].is_number() ||
         (s["ratio_limit"].get<double>() < 0 && s["ratio_limit"].get<double>() != -1)))
        return bad("ratio_limit: expected a number >= 0, or -1 for none");
    if (s.contains("limit_action")) {
        auto const& a = s["limit_action"];
        auto const& actions = config::limit_actions();
        if (!a.is_string() ||
            std::find(actions.begin(), actions.end(), a.get<std::string>()) == actions.end())
            return bad("limit_action: expected \"stop\", \"remove\" or \"remove_data\"");
    }
    if (s.contains("labels") &&
        (!s["labels"].is_array() || !std::all_of(s["labels"].begin(), s["labels"].end(),
                                                 [](json const& l) { return l.is_string(); })))
        return bad("labels: expected an array of strings");
    return Ok{};
}

// Checked torrent.set settings applied to one torrent: our settings and its libtorrent handle.
void apply_torrent_settings(Entry& e, json const& s)
{
    auto& meta = e.meta;
    if (s.contains("upload_limit")) {
        meta.upload_limit = s["upload_limit"].get<std::int64_t>();
        e.handle.set_upload_limit(static_cast<int>(meta.upload_limit));
    }
    if (s.contains("download_limit")) {
        meta.download_limit = s["download_limit"].get<std::int64_t>();
        e.handle.set_download_limit(static_cast<int>(meta.download_limit));
    }
    if (s.contains("max_connections")) {
        meta.max_connections = s["max_connections"].get<std::int64_t>();
        e.handle.set_max_connections(static_cast<int>(meta.max_connections));
    }
    if (s.contains("sequential")) {
        meta.sequential = s["sequential"].get<bool>();
        if (meta.sequential)
            e.handle.set_flags(lt::torrent_flags::sequential_download);
        else
            e.handle.unset_flags(lt::torrent_flags::sequential_download);
    }
    if (s.contains("labels"))
        meta.labels = s["labels"].get<std::vector<std::string>>();
    if (s.contains("ratio_limit"))
        meta.ratio_limit = s["ratio_limit"].get<double>();
    if (s.contains("seed_time_limit"))
        meta.seed_time_limit = s["seed_time_limit"].get<std::int64_t>();
    if (s.contains("limit_action"))
        meta.limit_action = s["limit_action"].get<std::string>();
}

} // namespace

Result<json> Engine::files(std::string const& id)
{
    auto h = handle_of(*impl_, id);
    if (!h)
        return h.error();
    auto ti = h->torrent_file();
    if (!ti)
        return make_error(Errc::no_metadata, "torrent " + id + " has no metadata yet");
    std::vector<std::int64_t> progress;
    h->file_progress(progress);
    auto priorities = h->get_file_priorities();
    auto const& fs = ti->files();
    json out = json::array();
    for (auto i : fs.file_range()) {
        if (fs.pad_file_at(i))
            continue;
        auto idx = static_cast<std::size_t>(static_cast<int>(i));
        auto size = fs.file_size(i);
        auto done = idx < progress.size() ? progress[idx] : 0;
        auto prio = idx < priorities.size()
                        ? static_cast<int>(static_cast<std::uint8_t>(priorities[idx]))
                        : 4;
        out.push_back(
            {{"index", static_cast<int>(i)},
             {"path", fs.file_path(i)},
             {"size", size},
             {"downloaded", done},
             {"progress", size > 0 ? static_cast<double>(done) / static_cast<double>(size) : 1.0},
             {"priority", prio},
             {"wanted", prio > 0}});
    }
    return out;
}

Status Engine::set_files(std::string const& id, json const& changes)
{
    auto h = handle_of(*impl_, id);
    if (!h)
        return h.error();
    auto ti = h->torrent_file();
    if (!ti)
        return make_error(Errc::no_metadata, "torrent " + id + " has no metadata yet");
    auto priorities = h->get_file_priorities();
    auto const n = ti->num_files();
    priorities.resize(static_cast<std::size_t>(n), lt::default_priority);
    for (auto const& c : changes) {
        if (!c.is_object() || !c.contains("index") || !c["index"].is_number_integer())
            return make_error(Errc::invalid_argument,
                              "files: each entry needs an integer \"index\"");
        auto idx = c["index"].get<std::int64_t>();
        if (idx < 0 || idx >= n)
            return make_error(Errc::invalid_file_index, "files: index " + std::to_string(idx) +
                                                            " is out of range (0.." +
                                                            std::to_string(n - 1) + ")");
        auto& p = priorities[static_cast<std::size_t>(idx)];
        if (c.contains("priority")) {
            if (!c["priority"].is_number_integer() || c["priority"].get<int>() < 0 ||
                c["priority"].get<int>() > 7)
                return make_error(Errc::invalid_argument,
                                  "files: priority must be an integer 0..7");
            p = lt::download_priority_t(static_cast<std::uint8_t>(c["priority"].get<int>()));
        }
        if (c.contains("wanted")) {
            if (!c["wanted"].is_boolean())
                return make_error(Errc::invalid_argument, "files: wanted must be true or false");
            if (!c["wanted"].get<bool>())
                p = lt::dont_download;
            else if (p == lt::dont_download)
                p = lt::default_priority;
        }
    }
    h->prioritize_files(priorities);
    // libtorrent applies priorities after a disk-thread round trip; answer once they read back, so
    // a client's next torrent.files shows its change (bounded: a busy disk only delays the echo).
    auto const deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (h->get_file_priorities() != priorities && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::lock_guard lock(impl_->mutex);
    if (auto e = impl_->find(id))
        (*e)->dirty = true;
    return Ok{};
}

Result<json> Engine::peers(std::string const& id)
{
    auto h = handle_of(*impl_, id);
    if (!h)
        return h.error();
    std::vector<lt::peer_info> peers;
    h->get_peer_info(peers);
    auto const canonical = id_of(h->info_hashes());
    json out = json::array();
    for (auto const& p : peers) {
        // Payment class and unpaid balance from the btt_pay plugin: "none" without payments, and
        // "free" until the plugin's first tick on a new connection.
        std::string payment = "none";
        tron::Uint256 unpaid = 0;
        json bid = nullptr; // the accepted bid per GiB of a paying peer
        if (impl_->payments) {
            auto view = impl_->payments->peer_payment(canonical, endpoint_key(p.ip));
            payment = view ? view->state : "free";
            unpaid = view ? view->unpaid : 0;
            if (view && view->bid)
                bid = tron::to_decimal(*view->bid);
        }
        out.push_back({{"ip", p.ip.address().to_string()},
                       {"payment", payment},
                       {"unpaid", tron::to_decimal(unpaid)},
                       {"bid_per_gib", bid},
                       {"port", p.ip.port()},
                       {"client", p.client},
                       {"progress", p.progress},
                       {"download_rate", p.payload_down_speed},
                       {"upload_rate", p.payload_up_speed},
                       {"downloaded", p.total_download},
                       {"uploaded", p.total_upload},
                       {"flags", peer_flags(p)},
                       {"seed", static_cast<bool>(p.flags & lt::peer_info::seed)},
                       {"connection", (p.flags & lt::peer_info::utp_socket) ? "utp" : "tcp"},
                       {"incoming", static_cast<bool>(p.source & lt::peer_info::incoming)}});
    }
    return out;
}

Status Engine::add_peers(std::string const& id, std::vector<std::string> const& endpoints)
{
    std::vector<boost::asio::ip::tcp::endpoint> eps;
    for (auto const& s : endpoints) {
        auto ep = config::parse_endpoint(s);
        boost::system::error_code ec;
        auto addr = ep ? boost::asio::ip::make_address(ep->host, ec) : boost::asio::ip::address{};
        if (!ep || ec || ep->port == 0)
            return make_error(Errc::invalid_argument,
                              "peers: \"" + s + "\" is not IP:PORT (IPv6 as [ADDR]:PORT)");
        eps.emplace_back(addr, ep->port);
    }
    auto h = handle_of(*impl_, id);
    if (!h)
        return h.error();
    for (auto const& ep : eps)
        h->connect_peer(ep);
    return Ok{};
}

Result<json> Engine::trackers(std::string const& id)
{
    auto h = handle_of(*impl_, id);
    if (!h)
        return h.error();
    json out = json::array();
    for (auto const& t : h->trackers())
        out.push_back(tracker_json(t));
    return out;
}

Status Engine::set_trackers(std::string const& id, json const& params)
{
    auto h = handle_of(*impl_, id);
    if (!h)
        return h.error();
    std::vector<lt::announce_entry> result;
    if (params.contains("trackers")) {
        if (auto st = parse_tracker_list(params["trackers"], "trackers", result); !st)
            return st;
    } else {
        result = h->trackers();
        if (auto st = edit_trackers(params, result); !st)
            return st;
    }
    h->replace_trackers(result);
    std::lock_guard lock(impl_->mutex);
    if (auto e = impl_->find(id))
        (*e)->dirty = true;
    return Ok{};
}

Status Engine::set(std::vector<std::string> const& ids, json const& s)
{
    auto& m = *impl_;
    if (auto st = check_torrent_settings(s); !st)
        return st;
    return m.change_persisted(ids, [&](Entry& e) { apply_torrent_settings(e, s); });
}

} // namespace seedbox::daemon
