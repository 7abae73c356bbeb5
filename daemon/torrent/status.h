// The part of libtorrent's torrent_status the engine keeps per torrent: what the views, the share
// limits and the events read between two status updates. A whole lt::torrent_status is 616 bytes
// with three heap strings (its save path repeats ours); this keeps what is read, under the same
// names, so one is cheaper to hold for each of 10,000 torrents (issue 15, memory).
#pragma once

#include <libtorrent/error_code.hpp>
#include <libtorrent/sha1_hash.hpp>
#include <libtorrent/torrent_flags.hpp>
#include <libtorrent/torrent_info.hpp>
#include <libtorrent/torrent_status.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace seedbox::daemon {

struct CachedStatus {
    std::string name;
    std::string current_tracker;
    std::weak_ptr<lt::torrent_info const> torrent_file;
    lt::error_code errc;
    lt::sha256_hash info_hash_v2; // all zeros for a v1-only torrent
    lt::time_point last_upload;
    lt::time_point last_download;
    std::int64_t total_wanted = 0;
    std::int64_t total_wanted_done = 0;
    std::int64_t total_done = 0;
    std::int64_t all_time_upload = 0;
    std::int64_t all_time_download = 0;
    std::chrono::seconds seeding_duration{0};
    std::chrono::seconds active_duration{0};
    lt::torrent_flags_t flags{};
    lt::queue_position_t queue_position{};
    float progress = 0;
    int download_payload_rate = 0;
    int upload_payload_rate = 0;
    int num_peers = 0;
    int num_seeds = 0;
    int num_complete = 0;
    int num_incomplete = 0;
    int num_pieces = 0;
    lt::torrent_status::state_t state = lt::torrent_status::checking_resume_data;
    bool has_metadata = false;
    bool is_seeding = false;
    bool is_finished = false;
    bool moving_storage = false;

    CachedStatus() = default;
    explicit CachedStatus(lt::torrent_status const& st)
        : name(st.name), current_tracker(st.current_tracker), torrent_file(st.torrent_file),
          errc(st.errc), info_hash_v2(st.info_hashes.v2), last_upload(st.last_upload),
          last_download(st.last_download), total_wanted(st.total_wanted),
          total_wanted_done(st.total_wanted_done), total_done(st.total_done),
          all_time_upload(st.all_time_upload), all_time_download(st.all_time_download),
          seeding_duration(st.seeding_duration), active_duration(st.active_duration),
          flags(st.flags), queue_position(st.queue_position), progress(st.progress),
          download_payload_rate(st.download_payload_rate),
          upload_payload_rate(st.upload_payload_rate), num_peers(st.num_peers),
          num_seeds(st.num_seeds), num_complete(st.num_complete), num_incomplete(st.num_incomplete),
          num_pieces(st.num_pieces), state(st.state), has_metadata(st.has_metadata),
          is_seeding(st.is_seeding), is_finished(st.is_finished), moving_storage(st.moving_storage)
    {
    }
};

} // namespace seedbox::daemon
