// torrent.create: hash a file or folder under an allowed root into a .torrent, optionally add it
// in seed mode (the data was just hashed, so no second check). Blocks while hashing: slow pool
// only.
#include "daemon/torrent/engine_impl.h"

#include "daemon/base/paths.h"

#include <libtorrent/bencode.hpp>
#include <libtorrent/create_torrent.hpp>
#include <libtorrent/disk_interface.hpp>
#include <libtorrent/session.hpp>
#include <spdlog/spdlog.h>

namespace seedbox::daemon {

namespace {

// The libtorrent flags for req.version, once the piece size, version and trackers asked for are
// all valid.
Result<lt::create_flags_t> checked_options(CreateRequest const& req)
{
    auto const ps = req.piece_size;
    if (ps != 0 && (ps < 16 * 1024 || ps > 128 * 1024 * 1024 || (ps & (ps - 1)) != 0))
        return make_error(
            Errc::invalid_argument,
            "piece_size: must be 0 (automatic) or a power of two from 16 KiB to 128 MiB");
    lt::create_flags_t flags{};
    if (req.version == "v1")
        flags = lt::create_torrent::v1_only;
    else if (req.version == "v2")
        flags = lt::create_torrent::v2_only;
    else if (req.version != "hybrid")
        return make_error(Errc::invalid_argument, "version: expected \"v1\", \"hybrid\" or \"v2\"");
    for (auto const& t : req.trackers)
        if (t.rfind("http://", 0) != 0 && t.rfind("https://", 0) != 0 && t.rfind("udp://", 0) != 0)
            return make_error(Errc::invalid_tracker,
                              "trackers: \"" + t + "\" is not an http(s):// or udp:// URL");
    return flags;
}

// Whether the file or folder p goes into the torrent. Only regular files whose real path lies
// inside the allowed roots: a symlink leading outside (or to nothing, or to a folder) is left out
// and added to `skipped`; so are FIFOs, sockets, devices. Hidden files are left out unreported.
bool admit(std::string const& p, std::vector<std::string> const& roots,
           std::vector<CreateResult::Skipped>& skipped)
{
    auto const name = std::filesystem::path(p).filename().string();
    if (!name.empty() && name.front() == '.')
        return false; // hidden files, as mktorrent does
    std::error_code ec;
    auto const st = std::filesystem::symlink_status(p, ec);
    if (ec)
        return false;
    if (std::filesystem::is_directory(st))
        return true;
    std::string why;
    if (std::filesystem::is_symlink(st)) {
        auto const real = std::filesystem::canonical(p, ec);
        if (ec)
            why = "a symlink to nothing";
        else if (!inside_roots(real, roots))
            why = "a symlink to " + real.string() + ", outside the allowed roots";
        else if (!std::filesystem::is_regular_file(real, ec))
            why = "a symlink to something that is not a regular file";
    } else if (!std::filesystem::is_regular_file(st)) {
        why = "not a regular file";
    }
    if (!why.empty())
        skipped.push_back({p, why});
    return why.empty();
}

// The files under `path` that may be shared (see admit); each one left out is logged.
Result<lt::file_storage> shareable_files(std::filesystem::path const& path,
                                         std::vector<std::string> const& roots,
                                         std::vector<CreateResult::Skipped>& skipped)
{
    lt::file_storage fs;
    lt::add_files(fs, path.string(),
                  [&](std::string const& p) { return admit(p, roots, skipped); });
    for (auto const& s : skipped)
        spdlog::warn("torrent.create: left out {}: {}", s.path, s.reason);
    if (fs.num_files() == 0)
        return make_error(Errc::create_failed, "path: " + path.string() + " holds no files" +
                                                   (skipped.empty() ? "" : " that may be shared"));
    return fs;
}

// Trackers (one tier each), web seeds, comment, creator and the private flag.
void describe(lt::create_torrent& ct, CreateRequest const& req)
{
    int tier = 0;
    for (auto const& t : req.trackers)
        ct.add_tracker(t, tier++);
    for (auto const& w : req.web_seeds)
        ct.add_url_seed(w);
    if (!req.comment.empty())
        ct.set_comment(req.comment.c_str());
    ct.set_creator("seedboxd");
    ct.set_priv(req.is_private);
}

// Hashes the data of `ct`, found next to `path` (its parent folder holds it).
Status hash_pieces(lt::create_torrent& ct, std::filesystem::path const& path,
                   std::atomic<bool> const& stopping)
{
    // Hashing a large folder takes minutes: a shutdown stops it. Throwing out of the progress
    // callback unwinds set_piece_hashes, whose disk threads still read the file list being
    // destroyed; so the disk threads are stopped first (abort(true), as libtorrent's own
    // hash error path does), then the callback throws.
    struct Cancelled {};
    lt::disk_interface* disk = nullptr;
    auto const disk_io = [&disk](lt::io_context& ios, lt::settings_interface const& sett,
                                 lt::counters& cnt) {
        auto io = lt::default_disk_io_constructor(ios, sett, cnt);
        disk = io.get();
        return io;
    };
    auto const progress = [&stopping, &disk](lt::piece_index_t) {
        if (!stopping)
            return;
        if (disk)
            disk->abort(true);
        throw Cancelled{};
    };
    lt::error_code ec;
    try {
        lt::set_piece_hashes(ct, path.parent_path().string(), lt::settings_pack{}, disk_io,
                             progress, ec);
    } catch (Cancelled const&) {
        return make_error(Errc::shutting_down,
                          "torrent.create stopped: the daemon is shutting down");
    }
    if (ec)
        return make_error(Errc::create_failed,
                          "hashing " + path.string() + " failed: " + ec.message());
    return Ok{};
}

// The bencoded .torrent of the files in `fs`, hashed.
Result<std::string> make_metainfo(lt::file_storage& fs, std::filesystem::path const& path,
                                  CreateRequest const& req, lt::create_flags_t flags,
                                  std::atomic<bool> const& stopping)
{
    std::string metainfo;
    try {
        lt::create_torrent ct(fs, static_cast<int>(req.piece_size), flags);
        describe(ct, req);
        if (auto st = hash_pieces(ct, path, stopping); !st)
            return st.error();
        lt::bencode(std::back_inserter(metainfo), ct.generate());
    } catch (std::exception const& ex) {
        return make_error(Errc::create_failed, std::string("cannot create torrent: ") + ex.what());
    }
    return metainfo;
}

} // namespace

Result<CreateResult> Engine::create(CreateRequest const& req)
{
    auto& m = *impl_;
    auto path = confine(req.path, {m.cfg.torrent.default_save_path, m.cfg.torrent.allowed_roots});
    if (!path)
        return make_error(Errc::path_not_allowed, "path: " + path.error().message);
    std::error_code fec;
    if (!std::filesystem::exists(*path, fec))
        return make_error(Errc::create_failed, "path: " + path->string() + " does not exist");
    auto flags = checked_options(req);
    if (!flags)
        return flags.error();
    std::vector<CreateResult::Skipped> skipped;
    auto fs = shareable_files(*path, m.cfg.torrent.allowed_roots, skipped);
    if (!fs)
        return fs.error();
    auto metainfo = make_metainfo(*fs, *path, req, *flags, m.stopping);
    if (!metainfo)
        return metainfo.error();
    lt::error_code ec;
    lt::torrent_info ti(lt::span<char const>(*metainfo), ec, lt::from_span);
    if (ec)
        return make_error(Errc::create_failed, "created torrent does not parse: " + ec.message());
    CreateResult out{*metainfo, id_of(ti.info_hashes()), ti.name(), false, std::move(skipped)};
    spdlog::info("created torrent {} ({}) from {}", out.name, out.id, path->string());
    if (req.add) {
        AddRequest add;
        add.metainfo = *metainfo;
        add.save_path = path->parent_path().string();
        add.seed_mode = true;
        add.labels = req.labels;
        auto added = this->add(add);
        if (!added)
            return added.error();
        out.added = added->added;
    }
    return out;
}

} // namespace seedbox::daemon
