// Transmission 4.1's names: its JSON-RPC form spells every method, argument, field and result
// key in snake_case; the legacy form mixes kebab-case and camelCase. One table, 4.1's own
// (api-compat.cc's RpcKeys, 212 pairs, read at tag 4.1.3), maps each name between the two, and
// the walks below apply it where 4.1 applies it: to every object key at any depth, and to the
// strings of `fields` and `ids` (and of a table-format header).
#include "rpc/transmission/internal.h"

#include <algorithm>
#include <array>
#include <unordered_map>

namespace seedbox::rpc::transmission {

namespace {

// Where a pair applies: 4.1 spells the download directory `downloadDir` in torrent-get and
// torrent-set, `download-dir` everywhere else.
enum class Where { any, torrent, elsewhere };

struct Name {
    std::string_view current; // 4.1's JSON-RPC spelling
    std::string_view legacy;  // the legacy form's
    Where where = Where::any;
};

// 4.1's pairs in its order, then the one its code special-cases, then seedboxd's own.
constexpr auto kNames = std::to_array<Name>({
    {"active_torrent_count", "activeTorrentCount"},
    {"activity_date", "activityDate"},
    {"added_date", "addedDate"},
    {"alt_speed_down", "alt-speed-down"},
    {"alt_speed_enabled", "alt-speed-enabled"},
    {"alt_speed_time_begin", "alt-speed-time-begin"},
    {"alt_speed_time_day", "alt-speed-time-day"},
    {"alt_speed_time_enabled", "alt-speed-time-enabled"},
    {"alt_speed_time_end", "alt-speed-time-end"},
    {"alt_speed_up", "alt-speed-up"},
    {"announce_state", "announceState"},
    {"anti_brute_force_enabled", "anti-brute-force-enabled"},
    {"anti_brute_force_threshold", "anti-brute-force-threshold"},
    {"bandwidth_priority", "bandwidthPriority"},
    {"blocklist_enabled", "blocklist-enabled"},
    {"blocklist_size", "blocklist-size"},
    {"blocklist_url", "blocklist-url"},
    {"bytes_completed", "bytesCompleted"},
    {"cache_size_mib", "cache-size-mb"},
    {"client_is_choked", "clientIsChoked"},
    {"client_is_interested", "clientIsInterested"},
    {"client_name", "clientName"},
    {"config_dir", "config-dir"},
    {"corrupt_ever", "corruptEver"},
    {"cumulative_stats", "cumulative-stats"},
    {"current_stats", "current-stats"},
    {"date_created", "dateCreated"},
    {"default_trackers", "default-trackers"},
    {"delete_local_data", "delete-local-data"},
    {"desired_available", "desiredAvailable"},
    {"dht_enabled", "dht-enabled"},
    {"done_date", "doneDate"},
    {"download_count", "downloadCount"},
    {"download_dir", "download-dir", Where::elsewhere},
    {"download_dir_free_space", "download-dir-free-space"},
    {"download_limit", "downloadLimit"},
    {"download_limited", "downloadLimited"},
    {"download_queue_enabled", "download-queue-enabled"},
    {"download_queue_size", "download-queue-size"},
    {"download_speed", "downloadSpeed"},
    {"downloaded_bytes", "downloadedBytes"},
    {"downloaded_ever", "downloadedEver"},
    {"edit_date", "editDate"},
    {"error_string", "errorString"},
    {"eta_idle", "etaIdle"},
    {"file_count", "file-count"},
    {"file_stats", "fileStats"},
    {"files_added", "filesAdded"},
    {"files_unwanted", "files-unwanted"},
    {"files_wanted", "files-wanted"},
    {"flag_str", "flagStr"},
    {"from_cache", "fromCache"},
    {"from_dht", "fromDht"},
    {"from_incoming", "fromIncoming"},
    {"from_lpd", "fromLpd"},
    {"from_ltep", "fromLtep"},
    {"from_pex", "fromPex"},
    {"from_tracker", "fromTracker"},
    {"has_announced", "hasAnnounced"},
    {"has_scraped", "hasScraped"},
    {"hash_string", "hashString"},
    {"have_unchecked", "haveUnchecked"},
    {"have_valid", "haveValid"},
    {"honors_session_limits", "honorsSessionLimits"},
    {"idle_seeding_limit", "idle-seeding-limit"},
    {"idle_seeding_limit_enabled", "idle-seeding-limit-enabled"},
    {"incomplete_dir", "incomplete-dir"},
    {"incomplete_dir_enabled", "incomplete-dir-enabled"},
    {"is_backup", "isBackup"},
    {"is_downloading_from", "isDownloadingFrom"},
    {"is_encrypted", "isEncrypted"},
    {"is_finished", "isFinished"},
    {"is_incoming", "isIncoming"},
    {"is_private", "isPrivate"},
    {"is_stalled", "isStalled"},
    {"is_uploading_to", "isUploadingTo"},
    {"is_utp", "isUTP"},
    {"last_announce_peer_count", "lastAnnouncePeerCount"},
    {"last_announce_result", "lastAnnounceResult"},
    {"last_announce_start_time", "lastAnnounceStartTime"},
    {"last_announce_succeeded", "lastAnnounceSucceeded"},
    {"last_announce_time", "lastAnnounceTime"},
    {"last_announce_timed_out", "lastAnnounceTimedOut"},
    {"last_scrape_result", "lastScrapeResult"},
    {"last_scrape_start_time", "lastScrapeStartTime"},
    {"last_scrape_succeeded", "lastScrapeSucceeded"},
    {"last_scrape_time", "lastScrapeTime"},
    {"last_scrape_timed_out", "lastScrapeTimedOut"},
    {"leecher_count", "leecherCount"},
    {"left_until_done", "leftUntilDone"},
    {"lpd_enabled", "lpd-enabled"},
    {"magnet_link", "magnetLink"},
    {"manual_announce_time", "manualAnnounceTime"},
    {"max_connected_peers", "maxConnectedPeers"},
    {"memory_bytes", "memory-bytes"},
    {"memory_units", "memory-units"},
    {"metadata_percent_complete", "metadataPercentComplete"},
    {"next_announce_time", "nextAnnounceTime"},
    {"next_scrape_time", "nextScrapeTime"},
    {"paused_torrent_count", "pausedTorrentCount"},
    {"peer_is_choked", "peerIsChoked"},
    {"peer_is_interested", "peerIsInterested"},
    {"peer_limit", "peer-limit"},
    {"peer_limit_global", "peer-limit-global"},
    {"peer_limit_per_torrent", "peer-limit-per-torrent"},
    {"peer_port", "peer-port"},
    {"peer_port_random_on_start", "peer-port-random-on-start"},
    {"peers_connected", "peersConnected"},
    {"peers_from", "peersFrom"},
    {"peers_getting_from_us", "peersGettingFromUs"},
    {"peers_sending_to_us", "peersSendingToUs"},
    {"percent_complete", "percentComplete"},
    {"percent_done", "percentDone"},
    {"pex_enabled", "pex-enabled"},
    {"piece_count", "pieceCount"},
    {"piece_size", "pieceSize"},
    {"port_forwarding_enabled", "port-forwarding-enabled"},
    {"port_is_open", "port-is-open"},
    {"primary_mime_type", "primary-mime-type"},
    {"priority_high", "priority-high"},
    {"priority_low", "priority-low"},
    {"priority_normal", "priority-normal"},
    {"queue_position", "queuePosition"},
    {"queue_stalled_enabled", "queue-stalled-enabled"},
    {"queue_stalled_minutes", "queue-stalled-minutes"},
    {"rate_download", "rateDownload"},
    {"rate_to_client", "rateToClient"},
    {"rate_to_peer", "rateToPeer"},
    {"rate_upload", "rateUpload"},
    {"recently_active", "recently-active"},
    {"recheck_progress", "recheckProgress"},
    {"rename_partial_files", "rename-partial-files"},
    {"rpc_host_whitelist", "rpc-host-whitelist"},
    {"rpc_host_whitelist_enabled", "rpc-host-whitelist-enabled"},
    {"rpc_version", "rpc-version"},
    {"rpc_version_minimum", "rpc-version-minimum"},
    {"rpc_version_semver", "rpc-version-semver"},
    {"scrape_state", "scrapeState"},
    {"script_torrent_added_enabled", "script-torrent-added-enabled"},
    {"script_torrent_added_filename", "script-torrent-added-filename"},
    {"script_torrent_done_enabled", "script-torrent-done-enabled"},
    {"script_torrent_done_filename", "script-torrent-done-filename"},
    {"script_torrent_done_seeding_enabled", "script-torrent-done-seeding-enabled"},
    {"script_torrent_done_seeding_filename", "script-torrent-done-seeding-filename"},
    {"seconds_active", "secondsActive"},
    {"seconds_downloading", "secondsDownloading"},
    {"seconds_seeding", "secondsSeeding"},
    {"seed_idle_limit", "seedIdleLimit"},
    {"seed_idle_mode", "seedIdleMode"},
    {"seed_queue_enabled", "seed-queue-enabled"},
    {"seed_queue_size", "seed-queue-size"},
    {"seed_ratio_limit", "seedRatioLimit"},
    {"seed_ratio_limited", "seedRatioLimited"},
    {"seed_ratio_mode", "seedRatioMode"},
    {"seeder_count", "seederCount"},
    {"session_count", "sessionCount"},
    {"session_id", "session-id"},
    {"size_bytes", "size-bytes"},
    {"size_units", "size-units"},
    {"size_when_done", "sizeWhenDone"},
    {"speed_bytes", "speed-bytes"},
    {"speed_limit_down", "speed-limit-down"},
    {"speed_limit_down_enabled", "speed-limit-down-enabled"},
    {"speed_limit_up", "speed-limit-up"},
    {"speed_limit_up_enabled", "speed-limit-up-enabled"},
    {"speed_units", "speed-units"},
    {"start_added_torrents", "start-added-torrents"},
    {"start_date", "startDate"},
    {"tcp_enabled", "tcp-enabled"},
    {"torrent_added", "torrent-added"},
    {"torrent_count", "torrentCount"},
    {"torrent_duplicate", "torrent-duplicate"},
    {"torrent_file", "torrentFile"},
    {"total_size", "totalSize"},
    {"tracker_add", "trackerAdd"},
    {"tracker_list", "trackerList"},
    {"tracker_remove", "trackerRemove"},
    {"tracker_replace", "trackerReplace"},
    {"tracker_stats", "trackerStats"},
    {"trash_original_torrent_files", "trash-original-torrent-files"},
    {"upload_limit", "uploadLimit"},
    {"upload_limited", "uploadLimited"},
    {"upload_ratio", "uploadRatio"},
    {"upload_speed", "uploadSpeed"},
    {"uploaded_bytes", "uploadedBytes"},
    {"uploaded_ever", "uploadedEver"},
    {"utp_enabled", "utp-enabled"},
    {"webseeds_sending_to_us", "webseedsSendingToUs"},
    {"blocklist_update", "blocklist-update"},
    {"free_space", "free-space"},
    {"group_get", "group-get"},
    {"group_set", "group-set"},
    {"port_test", "port-test"},
    {"queue_move_bottom", "queue-move-bottom"},
    {"queue_move_down", "queue-move-down"},
    {"queue_move_top", "queue-move-top"},
    {"queue_move_up", "queue-move-up"},
    {"session_close", "session-close"},
    {"session_get", "session-get"},
    {"session_set", "session-set"},
    {"session_stats", "session-stats"},
    {"torrent_add", "torrent-add"},
    {"torrent_get", "torrent-get"},
    {"torrent_reannounce", "torrent-reannounce"},
    {"torrent_remove", "torrent-remove"},
    {"torrent_rename_path", "torrent-rename-path"},
    {"torrent_set", "torrent-set"},
    {"torrent_set_location", "torrent-set-location"},
    {"torrent_start", "torrent-start"},
    {"torrent_start_now", "torrent-start-now"},
    {"torrent_stop", "torrent-stop"},
    {"torrent_verify", "torrent-verify"},
    // 4.1's convert_key special case (see Where).
    {"download_dir", "downloadDir", Where::torrent},
    // seedboxd's legacy torrent-get field and torrent-set key; 4.1 names it sequential_download
    // in both forms.
    {"sequential_download", "sequentialDownload"},
});

using Map = std::unordered_map<std::string_view, std::string_view>;

struct Maps {
    Map to_legacy[2]; // [in torrent-get or torrent-set]
    Map to_current;
};

Maps const& maps()
{
    static Maps const m = [] {
        Maps out;
        for (auto const& n : kNames) {
            if (n.where != Where::torrent)
                out.to_legacy[0].emplace(n.current, n.legacy);
            if (n.where != Where::elsewhere)
                out.to_legacy[1].emplace(n.current, n.legacy);
            out.to_current.emplace(n.legacy, n.current);
        }
        return out;
    }();
    return m;
}

// The keys whose string values are names too (4.1 also converts `method`, which jsonrpc.cpp
// does, and the strings in `torrents`, of which only the table format's header row are names).
bool names_values(std::string_view key)
{
    return key == "fields" || key == "ids";
}

json legacy_value(json const& v, std::string_view key, bool torrent)
{
    if (v.is_object()) {
        json out = json::object();
        for (auto const& [k, child] : v.items())
            if (auto name = legacy_name(k, torrent)) // a legacy spelling is dropped: 4.1 ignores it
                out[std::string(*name)] = legacy_value(child, k, torrent);
        return out;
    }
    if (v.is_array()) {
        json out = json::array();
        for (auto const& child : v) {
            if (!child.is_string() || !names_values(key))
                out.push_back(legacy_value(child, key, torrent));
            else if (auto name = legacy_name(child.get_ref<std::string const&>(), torrent))
                out.push_back(std::string(*name));
        }
        return out;
    }
    if (v.is_string() && names_values(key)) {
        auto name = legacy_name(v.get_ref<std::string const&>(), torrent);
        return name ? json(std::string(*name)) : json::array(); // names nothing, as in 4.1
    }
    return v;
}

void convert_header(json& result)
{
    auto it = result.find("torrents");
    if (it == result.end() || !it->is_array() || it->empty() || !(*it)[0].is_array())
        return;
    for (auto& name : (*it)[0])
        if (name.is_string())
            name = std::string(current_name(name.get_ref<std::string const&>()));
}

void current_keys(json& v, std::string_view key)
{
    if (v.is_object()) {
        json out = json::object();
        for (auto& [k, child] : v.items()) {
            auto const name = std::string(current_name(k));
            current_keys(child, name);
            out[name] = std::move(child);
        }
        v = std::move(out);
        return;
    }
    if (!v.is_array())
        return;
    for (auto& child : v) {
        if (child.is_string() && names_values(key))
            child = std::string(current_name(child.get_ref<std::string const&>()));
        else
            current_keys(child, key);
    }
}

// The legacy form's `wanted` is 0/1, 4.1's JSON-RPC form's true/false; anything else is left.
void wanted_as_booleans(json& wanted)
{
    if (!wanted.is_array())
        return;
    for (auto const& w : wanted)
        if (!(w.is_number_integer() && (w == 0 || w == 1)))
            return;
    for (auto& w : wanted)
        w = w == 1;
}

void convert_wanted(json& result)
{
    auto it = result.find("torrents");
    if (it == result.end() || !it->is_array() || it->empty())
        return;
    auto& torrents = *it;
    if (!torrents[0].is_array()) {
        for (auto& t : torrents)
            if (t.is_object() && t.contains("wanted"))
                wanted_as_booleans(t["wanted"]);
        return;
    }
    auto const& header = torrents[0];
    auto col = std::find(header.begin(), header.end(), json("wanted"));
    if (col == header.end())
        return;
    auto const index = static_cast<std::size_t>(col - header.begin());
    for (std::size_t row = 1; row < torrents.size(); ++row)
        if (torrents[row].is_array() && index < torrents[row].size())
            wanted_as_booleans(torrents[row][index]);
}

// 4.1 calls the encryption mode "allowed" that the legacy form calls "tolerated".
void encryption(json& args, std::string_view from, std::string_view to)
{
    if (auto it = args.find("encryption");
        it != args.end() && it->is_string() && it->get_ref<std::string const&>() == from)
        *it = std::string(to);
}

} // namespace

std::optional<std::string_view> legacy_name(std::string_view name, bool torrent)
{
    auto const& m = maps();
    auto const& to = m.to_legacy[torrent ? 1 : 0];
    if (auto it = to.find(name); it != to.end())
        return it->second;
    if (m.to_current.contains(name))
        return std::nullopt;
    return name;
}

std::string_view current_name(std::string_view legacy)
{
    auto const& m = maps();
    auto it = m.to_current.find(legacy);
    return it == m.to_current.end() ? legacy : it->second;
}

json legacy_params(json const& params, std::string_view method)
{
    bool const torrent = method == "torrent_get" || method == "torrent_set";
    json out = legacy_value(params, "", torrent);
    encryption(out, "allowed", "tolerated");
    return out;
}

json current_result(json result)
{
    current_keys(result, "");
    if (result.is_object()) {
        convert_header(result);
        convert_wanted(result);
        encryption(result, "tolerated", "allowed");
    }
    return result;
}

} // namespace seedbox::rpc::transmission
