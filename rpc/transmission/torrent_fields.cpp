// torrent-get's fields: the one table that maps each Transmission field (rpc-spec.md §3.3) onto
// a TorrentView field or a computation from it, or from the torrent's files, peers or trackers
// (fetched once per torrent, only when a field needs them). A field this daemon cannot know is
// not in the table: Transmission, too, leaves out the fields it does not know.
#include "rpc/transmission/internal.h"

#include <uriparser/Uri.h>

#include <algorithm>

namespace seedbox::rpc::transmission {

namespace {

using daemon::TorrentState;
using daemon::TorrentView;

// One torrent's data, with its lists fetched on first use.
struct Source {
    Context& ctx;
    TorrentView const& t;
    FieldList const& list;
    std::optional<std::vector<daemon::FileView>> files_{};
    std::optional<std::vector<daemon::PeerConnection>> peers_{};
    std::optional<std::vector<daemon::TrackerView>> trackers_{};

    std::vector<daemon::FileView> const& files()
    {
        if (!files_) {
            auto r = ctx.engine.files(t.id); // no metadata yet: no files
            files_ = r ? std::move(r.value()) : std::vector<daemon::FileView>{};
        }
        return *files_;
    }
    std::vector<daemon::PeerConnection> const& peers()
    {
        if (!peers_) {
            auto r = ctx.engine.peers(t.id);
            peers_ = r ? std::move(r.value()) : std::vector<daemon::PeerConnection>{};
        }
        return *peers_;
    }
    std::vector<daemon::TrackerView> const& trackers()
    {
        if (!trackers_) {
            auto r = ctx.engine.trackers(t.id);
            trackers_ = r ? std::move(r.value()) : std::vector<daemon::TrackerView>{};
        }
        return *trackers_;
    }
};

using FieldFn = json (*)(Source& s);
struct Field {
    char const* name;
    FieldFn value;
};

// Transmission's status: 0 stopped, 1 queued to verify, 2 verifying, 3 queued to download,
// 4 downloading, 5 queued to seed, 6 seeding.
int status_of(TorrentView const& t)
{
    bool const done = t.has_metadata && t.left_until_done == 0;
    switch (t.state) {
    case TorrentState::queued:
        return done ? 5 : 3;
    case TorrentState::loading:
    case TorrentState::checking_resume:
        return 1;
    case TorrentState::checking:
        return 2;
    case TorrentState::downloading_metadata:
    case TorrentState::downloading:
        return 4;
    case TorrentState::finished:
    case TorrentState::seeding:
        return 6;
    case TorrentState::moving:
        return done ? 6 : 4;
    default: // stopped, error, unknown
        return 0;
    }
}

// -1: not available (not downloading), -2: unknown (no rate yet).
std::int64_t eta_of(TorrentView const& t)
{
    if (status_of(t) != 4)
        return -1;
    if (!t.has_metadata || t.download_rate <= 0)
        return -2;
    return t.left_until_done / t.download_rate;
}

// uploaded / downloaded (or / size for data added complete); -1 nothing to divide, -2 infinite.
double ratio_of(TorrentView const& t)
{
    auto base = std::max(t.downloaded, t.size_when_done - t.left_until_done);
    if (base > 0)
        return static_cast<double>(t.uploaded) / static_cast<double>(base);
    return t.uploaded > 0 ? -2.0 : -1.0;
}

// A torrent stopped by its share limit: Transmission's "finished".
bool finished(TorrentView const& t)
{
    return t.state == TorrentState::stopped && t.limit_reached;
}

// A share limit's Transmission mode: 0 the session's (or label's), 1 its own, 2 unlimited.
template <class T> int limit_mode(T own)
{
    return own >= 0 ? 1 : own == -2 ? 2 : 0;
}

// libtorrent's 0..7 as Transmission's -1 low, 0 normal, 1 high (0, skipped, reads as normal).
int priority_of(int p)
{
    return p == 0 || p == 4 ? 0 : p < 4 ? -1 : 1;
}

json files_json(Source& s)
{
    json out = json::array();
    for (auto const& f : s.files())
        out.push_back({{"bytesCompleted", f.downloaded}, {"length", f.size}, {"name", f.path}});
    return out;
}

json file_stats_json(Source& s)
{
    json out = json::array();
    for (auto const& f : s.files())
        out.push_back({{"bytesCompleted", f.downloaded},
                       {"wanted", f.wanted},
                       {"priority", priority_of(f.priority)}});
    return out;
}

template <class Pred> std::int64_t count_peers(Source& s, Pred pred)
{
    auto const& p = s.peers();
    return std::count_if(p.begin(), p.end(), pred);
}

json peers_json(Source& s)
{
    json out = json::array();
    for (auto const& p : s.peers())
        out.push_back({{"address", p.ip},
                       {"port", p.port},
                       {"clientName", p.client},
                       {"flagStr", p.flags},
                       {"isEncrypted", p.flags.find('E') != std::string::npos},
                       {"isIncoming", p.incoming},
                       {"isUTP", p.connection == "utp"},
                       {"isDownloadingFrom", p.download_rate > 0},
                       {"isUploadingTo", p.upload_rate > 0},
                       {"progress", p.progress},
                       {"rateToClient", p.download_rate},
                       {"rateToPeer", p.upload_rate}});
    return out;
}

std::string host_of(std::string const& url)
{
    auto start = url.find("://");
    start = start == std::string::npos ? 0 : start + 3;
    auto end = url.find_first_of("/?", start);
    return url.substr(0, end == std::string::npos ? url.size() : end);
}

json trackers_json(Source& s)
{
    json out = json::array();
    int id = 0;
    for (auto const& t : s.trackers())
        out.push_back({{"announce", t.url}, {"id", id++}, {"scrape", ""}, {"tier", t.tier}});
    return out;
}

json tracker_stats_json(Source& s)
{
    json out = json::array();
    int id = 0;
    for (auto const& t : s.trackers()) {
        bool const working = t.state.status == "working";
        bool const tried = working || t.state.status == "error";
        // Every key transmission-remote -it needs; times seedboxd does not keep are 0 (never).
        out.push_back({{"id", id++},
                       {"announce", t.url},
                       {"scrape", ""},
                       {"host", host_of(t.url)},
                       {"sitename", ""},
                       {"tier", t.tier},
                       {"isBackup", false},
                       {"announceState", t.state.status == "updating" ? 3 : 1},
                       {"scrapeState", 0},
                       {"hasAnnounced", tried},
                       {"hasScraped", t.seeds >= 0},
                       {"lastAnnounceSucceeded", working},
                       {"lastAnnounceResult", working ? "Success" : t.state.message},
                       {"lastAnnouncePeerCount", 0},
                       {"lastAnnounceStartTime", 0},
                       {"lastAnnounceTime", 0},
                       {"lastAnnounceTimedOut", false},
                       {"lastScrapeResult", ""},
                       {"lastScrapeStartTime", 0},
                       {"lastScrapeSucceeded", t.seeds >= 0},
                       {"lastScrapeTime", 0},
                       {"lastScrapeTimedOut", false},
                       {"nextAnnounceTime", 0},
                       {"nextScrapeTime", 0},
                       {"seederCount", t.seeds},
                       {"leecherCount", t.leechers},
                       {"downloadCount", t.downloaded}});
    }
    return out;
}

std::int64_t queue_position_of(Source const& s)
{
    if (s.t.queue_position >= 0)
        return s.t.queue_position;
    auto it = s.list.after_queue.find(s.t.number);
    return it != s.list.after_queue.end() ? it->second : 0;
}

std::int64_t peer_limit_of(Source const& s)
{
    return s.t.max_connections > 0 ? s.t.max_connections : s.list.peer_limit;
}

// RFC 3986 percent-encoding of a magnet link's values.
std::string escaped(std::string const& in)
{
    std::string out(in.size() * 3 + 1, '\0');
    auto const* end = uriEscapeA(in.c_str(), out.data(), URI_FALSE, URI_FALSE);
    out.resize(static_cast<std::size_t>(end - out.data()));
    return out;
}

// Transmission's magnetLink: the info-hash(es), the name and the trackers.
std::string magnet_of(Source& s)
{
    std::string out = "magnet:?";
    if (s.t.id.size() == 40) // a v1 info-hash (a v2-only torrent's id is its v2 hash)
        out += "xt=urn:btih:" + s.t.id;
    if (!s.t.info_hash_v2.empty())
        out +=
            (s.t.id.size() == 40 ? "&" : "") + std::string("xt=urn:btmh:1220") + s.t.info_hash_v2;
    if (!s.t.name.empty())
        out += "&dn=" + escaped(s.t.name);
    for (auto const& tr : s.trackers())
        out += "&tr=" + escaped(tr.url);
    return out;
}

// Long because it is a table: one entry per Transmission field.
std::vector<Field> const& table()
{
    using S = Source&;
    static std::vector<Field> const t = {
        {"id", [](S s) -> json { return s.t.number; }},
        {"hashString", [](S s) -> json { return s.t.id; }},
        {"name", [](S s) -> json { return s.t.name; }},
        {"status", [](S s) -> json { return status_of(s.t); }},
        {"error", [](S s) -> json { return s.t.error.empty() ? 0 : 3; }},
        {"errorString", [](S s) -> json { return s.t.error; }},
        {"eta", [](S s) -> json { return eta_of(s.t); }},
        {"isFinished", [](S s) -> json { return finished(s.t); }},
        {"totalSize", [](S s) -> json { return s.t.total_size; }},
        {"sizeWhenDone", [](S s) -> json { return s.t.size_when_done; }},
        {"leftUntilDone", [](S s) -> json { return s.t.left_until_done; }},
        {"haveValid", [](S s) -> json { return s.t.have_bytes; }},
        {"percentDone", [](S s) -> json { return s.t.progress; }},
        {"percentComplete",
         [](S s) -> json {
             return s.t.total_size > 0
                        ? static_cast<double>(s.t.have_bytes) / static_cast<double>(s.t.total_size)
                        : 0.0;
         }},
        {"metadataPercentComplete", [](S s) -> json { return s.t.has_metadata ? 1.0 : 0.0; }},
        {"rateDownload", [](S s) -> json { return s.t.download_rate; }},
        {"rateUpload", [](S s) -> json { return s.t.upload_rate; }},
        {"downloadedEver", [](S s) -> json { return s.t.downloaded; }},
        {"uploadedEver", [](S s) -> json { return s.t.uploaded; }},
        {"uploadRatio", [](S s) -> json { return ratio_of(s.t); }},
        {"addedDate", [](S s) -> json { return s.t.added_time; }},
        {"doneDate", [](S s) -> json { return s.t.completed_time; }},
        {"downloadDir", [](S s) -> json { return s.t.save_path; }},
        {"labels", [](S s) -> json { return s.t.labels; }},
        {"secondsSeeding", [](S s) -> json { return s.t.seeding_time; }},
        {"secondsDownloading",
         [](S s) -> json { return std::max<std::int64_t>(0, s.t.active_time - s.t.seeding_time); }},
        {"pieceCount", [](S s) -> json { return s.t.num_pieces; }},
        {"pieceSize", [](S s) -> json { return s.t.piece_size; }},
        {"downloadLimit", [](S s) -> json { return s.t.download_limit / 1000; }},
        {"downloadLimited", [](S s) -> json { return s.t.download_limit > 0; }},
        {"uploadLimit", [](S s) -> json { return s.t.upload_limit / 1000; }},
        {"uploadLimited", [](S s) -> json { return s.t.upload_limit > 0; }},
        {"seedRatioLimit", [](S s) -> json { return std::max(0.0, s.t.ratio_limit); }},
        {"seedRatioMode", [](S s) -> json { return limit_mode(s.t.ratio_limit); }},
        {"seedIdleLimit",
         [](S s) -> json { return std::max<std::int64_t>(0, s.t.idle_limit) / 60; }},
        {"seedIdleMode", [](S s) -> json { return limit_mode(s.t.idle_limit); }},
        {"activityDate", [](S s) -> json { return s.t.activity_time; }},
        {"queuePosition", [](S s) -> json { return queue_position_of(s); }},
        {"peer-limit", [](S s) -> json { return peer_limit_of(s); }},
        {"maxConnectedPeers", [](S s) -> json { return peer_limit_of(s); }},
        {"isPrivate", [](S s) -> json { return s.t.is_private; }},
        {"comment", [](S s) -> json { return s.t.comment; }},
        {"creator", [](S s) -> json { return s.t.creator; }},
        {"dateCreated", [](S s) -> json { return s.t.created_time; }},
        {"magnetLink", [](S s) -> json { return magnet_of(s); }},
        {"recheckProgress", [](S s) -> json { return status_of(s.t) == 2 ? s.t.progress : 0.0; }},
        // libtorrent checks every piece before it counts it: no data is ever unchecked.
        {"haveUnchecked", [](S) -> json { return 0; }},
        {"honorsSessionLimits", [](S) -> json { return true; }},
        {"bandwidthPriority", [](S) -> json { return 0; }},
        {"sequentialDownload", [](S s) -> json { return s.t.sequential; }},
        {"peersConnected", [](S s) -> json { return s.t.peers; }},
        {"peersGettingFromUs",
         [](S s) -> json {
             return count_peers(s, [](auto const& p) { return p.upload_rate > 0; });
         }},
        {"peersSendingToUs",
         [](S s) -> json {
             return count_peers(s, [](auto const& p) { return p.download_rate > 0; });
         }},
        {"peers", [](S s) -> json { return peers_json(s); }},
        {"files", [](S s) -> json { return files_json(s); }},
        {"fileStats", [](S s) -> json { return file_stats_json(s); }},
        {"file-count", [](S s) -> json { return s.t.num_files; }}, // no call into libtorrent
        {"priorities",
         [](S s) -> json {
             json out = json::array();
             for (auto const& f : s.files())
                 out.push_back(priority_of(f.priority));
             return out;
         }},
        {"wanted",
         [](S s) -> json {
             json out = json::array(); // 0/1, as Transmission 4.0's legacy form sends them
             for (auto const& f : s.files())
                 out.push_back(f.wanted ? 1 : 0);
             return out;
         }},
        {"trackers", [](S s) -> json { return trackers_json(s); }},
        {"trackerStats", [](S s) -> json { return tracker_stats_json(s); }},
    };
    return t;
}

} // namespace

bool known_torrent_field(std::string const& name)
{
    auto const& t = table();
    return std::any_of(t.begin(), t.end(), [&](Field const& f) { return name == f.name; });
}

FieldList resolve_fields(std::vector<std::string> const& names)
{
    FieldList out;
    auto const& t = table();
    for (std::size_t i = 0; i < t.size(); ++i)
        if (std::find(names.begin(), names.end(), t[i].name) != names.end()) {
            out.entries.push_back(i);
            std::string_view const name = t[i].name;
            out.needs_session = out.needs_session || name == "queuePosition" ||
                                name == "peer-limit" || name == "maxConnectedPeers";
        }
    return out;
}

void see_session(Context& ctx, FieldList& fields, std::vector<TorrentView> const& all)
{
    std::int64_t queued = 0;
    std::vector<std::int64_t> rest;
    for (auto const& t : all)
        if (t.queue_position >= 0)
            ++queued;
        else
            rest.push_back(t.number);
    std::sort(rest.begin(), rest.end());
    fields.after_queue.clear();
    for (std::size_t i = 0; i < rest.size(); ++i)
        fields.after_queue[rest[i]] = queued + static_cast<std::int64_t>(i);
    fields.peer_limit = int_setting(ctx.engine.session_settings(), "connections_limit");
}

json torrent_object(Context& ctx, TorrentView const& t, FieldList const& fields)
{
    Source s{ctx, t, fields};
    json out = json::object();
    auto const& all = table();
    for (auto i : fields.entries)
        out[all[i].name] = all[i].value(s);
    return out;
}

} // namespace seedbox::rpc::transmission
