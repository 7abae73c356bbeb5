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

namespace {

Result<lt::torrent_handle> handle_of(Engine::Impl& m, std::string const& id)
{
    std::unique_lock lock(m.mutex);
    auto e = m.find_loaded(lock, id);
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
TrackerView tracker_view(lt::announce_entry const& t)
{
    AnnounceStatus best;
    Scrape scrape;
    TrackerView out;
    for (auto const& ep : t.endpoints) {
        auto const s = endpoint_status(ep, scrape);
        if (s.rank > best.rank || (s.rank == best.rank && best.message.empty())) {
            best.rank = std::max(best.rank, s.rank);
            best.message = s.message;
            best.fails = s.fails;
        }
        std::ostringstream local;
        local << ep.local_endpoint;
        out.endpoints.push_back({local.str(), {name_of(s.rank), s.message, s.fails}});
    }
    out.url = t.url;
    out.tier = t.tier;
    out.state = {name_of(best.rank == Rank::skipped ? Rank::error : best.rank), best.message,
                 best.fails};
    out.seeds = scrape.seeds;
    out.leechers = scrape.leechers;
    out.downloaded = scrape.downloaded;
    return out;
}

// A tracker list of torrent.set_trackers (`what` names it in errors), one tier each in order
// unless a tier is given. Appends the checked trackers to `out`.
Status parse_tracker_list(std::vector<TrackerSpec> const& list, char const* what,
                          std::vector<lt::announce_entry>& out)
{
    int tier = 0;
    for (auto const& t : list) {
        lt::announce_entry ae;
        ae.url = t.url;
        auto tr = t.tier.value_or(tier++);
        if (tr < 0 || tr > 255)
            return make_error(Errc::invalid_tracker, std::string(what) + ": tier must be 0..255");
        ae.tier = static_cast<std::uint8_t>(tr);
        if (!valid_tracker_url(ae.url))
            return make_error(Errc::invalid_tracker, std::string(what) + ": \"" + ae.url +
                                                         "\" is not an http(s):// or udp:// URL");
        out.push_back(std::move(ae));
    }
    return Ok{};
}

// torrent.set_trackers' "add" and "remove" applied to the torrent's `trackers`: the ones added
// come after the others (given as URLs, in tiers of their own), those already there are kept.
Status edit_trackers(TrackerEdit const& edit, std::vector<lt::announce_entry>& trackers)
{
    std::vector<lt::announce_entry> add;
    if (auto st = parse_tracker_list(edit.add, "add", add); !st)
        return st;
    for (auto const& url : edit.remove) {
        auto it = std::remove_if(trackers.begin(), trackers.end(),
                                 [&](lt::announce_entry const& a) { return a.url == url; });
        if (it == trackers.end())
            return make_error(Errc::invalid_tracker, "remove: the torrent has no tracker " + url);
        trackers.erase(it, trackers.end());
    }
    int next_tier = 0;
    for (auto const& r : trackers)
        next_tier = std::max(next_tier, r.tier + 1);
    for (auto& a : add) {
        if (std::none_of(trackers.begin(), trackers.end(),
                         [&](lt::announce_entry const& r) { return r.url == a.url; })) {
            if (edit.add_as_urls)
                a.tier = static_cast<std::uint8_t>(std::min(next_tier++, 255));
            trackers.push_back(a);
        }
    }
    return Ok{};
}

// torrent.set's settings, every one checked before any torrent changes.
Status check_torrent_settings(TorrentSettings const& s)
{
    auto bad = [](std::string const& why) { return make_error(Errc::invalid_argument, why); };
    auto int_in = [&](char const* key, std::optional<std::int64_t> const& v, std::int64_t lo,
                      std::int64_t hi) -> Status {
        if (v && (*v < lo || *v > hi))
            return bad(std::string(key) + ": expected an integer " + std::to_string(lo) + ".." +
                       std::to_string(hi));
        return Ok{};
    };
    for (auto st : {int_in("upload_limit", s.upload_limit, 0, 2147483647LL),
                    int_in("download_limit", s.download_limit, 0, 2147483647LL),
                    int_in("max_connections", s.max_connections, -1, 65535),
                    int_in("seed_time_limit", s.seed_time_limit, -2, 1LL << 40),
                    int_in("idle_limit", s.idle_limit, -2, 1LL << 40)})
        if (!st)
            return st;
    if (s.ratio_limit && !(*s.ratio_limit >= 0 && *s.ratio_limit <= 1e6) && *s.ratio_limit != -1 &&
        *s.ratio_limit != -2)
        return bad("ratio_limit: expected a number 0..1000000, -1 for the default or -2 for none");
    if (s.limit_action) {
        auto const& actions = config::limit_actions();
        if (std::find(actions.begin(), actions.end(), *s.limit_action) == actions.end())
            return bad("limit_action: expected \"stop\", \"remove\" or \"remove_data\"");
    }
    return Ok{};
}

// Checked torrent.set settings applied to one torrent: our settings and its libtorrent handle.
void apply_torrent_settings(Entry& e, TorrentSettings const& s)
{
    auto& meta = e.meta;
    if (s.upload_limit) {
        meta.upload_limit = *s.upload_limit;
        e.handle.set_upload_limit(static_cast<int>(meta.upload_limit));
    }
    if (s.download_limit) {
        meta.download_limit = *s.download_limit;
        e.handle.set_download_limit(static_cast<int>(meta.download_limit));
    }
    if (s.max_connections) {
        meta.max_connections = *s.max_connections;
        e.handle.set_max_connections(static_cast<int>(meta.max_connections));
    }
    if (s.sequential) {
        meta.sequential = *s.sequential;
        if (meta.sequential)
            e.handle.set_flags(lt::torrent_flags::sequential_download);
        else
            e.handle.unset_flags(lt::torrent_flags::sequential_download);
    }
    if (s.labels)
        meta.labels = *s.labels;
    if (s.ratio_limit)
        meta.ratio_limit = *s.ratio_limit;
    if (s.seed_time_limit)
        meta.seed_time_limit = *s.seed_time_limit;
    if (s.idle_limit)
        meta.idle_limit = *s.idle_limit;
    if (s.limit_action)
        meta.limit_action = *s.limit_action;
}

} // namespace

Result<std::vector<FileView>> Engine::files(std::string const& id)
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
    std::vector<FileView> out;
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
            {.index = static_cast<int>(i),
             .path = fs.file_path(i),
             .size = size,
             .downloaded = done,
             .progress = size > 0 ? static_cast<double>(done) / static_cast<double>(size) : 1.0,
             .priority = prio,
             .wanted = prio > 0});
    }
    return out;
}

Status Engine::set_files(std::string const& id, std::vector<FileChange> const& changes)
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
        if (c.index < 0 || c.index >= n)
            return make_error(Errc::invalid_file_index, "files: index " + std::to_string(c.index) +
                                                            " is out of range (0.." +
                                                            std::to_string(n - 1) + ")");
        auto& p = priorities[static_cast<std::size_t>(c.index)];
        if (c.priority) {
            if (*c.priority < 0 || *c.priority > 7)
                return make_error(Errc::invalid_argument,
                                  "files: priority must be an integer 0..7");
            p = lt::download_priority_t(static_cast<std::uint8_t>(*c.priority));
        }
        if (c.wanted) {
            if (!*c.wanted)
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
        impl_->mark_dirty(**e);
    return Ok{};
}

std::vector<std::string> const& tracker_statuses()
{
    static std::vector<std::string> const names(std::begin(kRankNames), std::end(kRankNames));
    return names;
}

std::vector<std::string> const& peer_payment_classes()
{
    static auto const classes = [] {
        std::vector<std::string> v{"none"};
        for (auto const* c : Payments::kClassNames)
            v.emplace_back(c);
        return v;
    }();
    return classes;
}

Result<std::vector<PeerConnection>> Engine::peers(std::string const& id)
{
    auto h = handle_of(*impl_, id);
    if (!h)
        return h.error();
    std::vector<lt::peer_info> peers;
    h->get_peer_info(peers);
    auto const canonical = id_of(h->info_hashes());
    std::vector<PeerConnection> out;
    out.reserve(peers.size());
    for (auto const& p : peers) {
        PeerConnection c;
        // Payment class and unpaid balance from the btt_pay plugin: "none" without payments, and
        // "free" until the plugin's first tick on a new connection.
        if (impl_->payments) {
            auto view = impl_->payments->peer_payment(canonical, endpoint_key(p.ip));
            c.payment = view ? view->state : "free";
            c.unpaid = tron::to_decimal(view ? view->unpaid : tron::Uint256{0});
            if (view && view->bid)
                c.bid_per_gib = tron::to_decimal(*view->bid);
        }
        c.ip = p.ip.address().to_string();
        c.port = p.ip.port();
        c.client = p.client;
        c.progress = p.progress;
        c.download_rate = p.payload_down_speed;
        c.upload_rate = p.payload_up_speed;
        c.downloaded = p.total_download;
        c.uploaded = p.total_upload;
        c.flags = peer_flags(p);
        c.seed = static_cast<bool>(p.flags & lt::peer_info::seed);
        c.connection = (p.flags & lt::peer_info::utp_socket) ? "utp" : "tcp";
        c.incoming = static_cast<bool>(p.source & lt::peer_info::incoming);
        out.push_back(std::move(c));
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

Result<std::vector<TrackerView>> Engine::trackers(std::string const& id)
{
    auto h = handle_of(*impl_, id);
    if (!h)
        return h.error();
    std::vector<TrackerView> out;
    for (auto const& t : h->trackers())
        out.push_back(tracker_view(t));
    return out;
}

Status Engine::set_trackers(std::string const& id, TrackerEdit const& edit)
{
    auto h = handle_of(*impl_, id);
    if (!h)
        return h.error();
    std::vector<lt::announce_entry> result;
    if (edit.replace) {
        if (auto st = parse_tracker_list(*edit.replace, "trackers", result); !st)
            return st;
    } else {
        result = h->trackers();
        if (auto st = edit_trackers(edit, result); !st)
            return st;
    }
    h->replace_trackers(result);
    std::lock_guard lock(impl_->mutex);
    if (auto e = impl_->find(id))
        impl_->mark_dirty(**e);
    return Ok{};
}

Status Engine::set(std::vector<std::string> const& ids, TorrentSettings const& s)
{
    auto& m = *impl_;
    if (auto st = check_torrent_settings(s); !st)
        return st;
    return m.change_persisted(ids, [&](Entry& e) { apply_torrent_settings(e, s); });
}

} // namespace seedbox::daemon
