// torrent.rename (Transmission's torrent-rename-path): a file or a folder of a torrent gets a new
// last path component, on disk too when the data is there. libtorrent renames on its disk
// thread; the call answers once the new paths read back.
#include "daemon/torrent/engine_impl.h"

#include <spdlog/spdlog.h>

#include <thread>

namespace seedbox::daemon {

namespace {

// One path component: not empty, not "." or "..", no '/' or NUL, at most 255 bytes.
bool valid_component(std::string const& name)
{
    return !name.empty() && name.size() <= 255 && name != "." && name != ".." &&
           name.find_first_of(std::string_view("/\0", 2)) == std::string::npos;
}

// The files whose path is `path` or lies below the folder `path`, with their new paths.
std::vector<std::pair<lt::file_index_t, std::string>>
renamed_files(lt::file_storage const& fs, std::string const& path, std::string const& name)
{
    auto const slash = path.rfind('/');
    auto const renamed =
        (slash == std::string::npos ? std::string() : path.substr(0, slash + 1)) + name;
    std::vector<std::pair<lt::file_index_t, std::string>> out;
    for (auto i : fs.file_range()) {
        auto const p = fs.file_path(i);
        if (p == path)
            out.emplace_back(i, renamed);
        else if (p.size() > path.size() && p.compare(0, path.size(), path) == 0 &&
                 p[path.size()] == '/')
            out.emplace_back(i, renamed + p.substr(path.size()));
    }
    return out;
}

} // namespace

Result<std::string> Engine::rename_path(std::string const& id, std::string const& path,
                                        std::string const& name)
{
    if (!valid_component(name))
        return make_error(Errc::invalid_argument,
                          "name: expected one path component (no '/', not \".\" or \"..\", at "
                          "most 255 bytes)");
    lt::torrent_handle h;
    {
        std::unique_lock lock(impl_->mutex);
        auto e = impl_->find_loaded(lock, id);
        if (!e)
            return e.error();
        h = (*e)->handle;
    }
    auto ti = h.torrent_file_with_hashes(); // a copy made on libtorrent's thread
    if (!ti)
        return make_error(Errc::no_metadata, "torrent " + id + " has no metadata yet");
    auto const changes = renamed_files(ti->files(), path, name);
    if (changes.empty())
        return make_error(Errc::invalid_argument,
                          "path: \"" + path + "\" is no file or folder of torrent " + id);
    for (auto const& [index, to] : changes)
        h.rename_file(index, to);
    // Answer once the new paths read back (bounded: a busy disk only delays the echo).
    auto const deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    auto const& [last, last_to] = changes.back();
    while (std::chrono::steady_clock::now() < deadline) {
        auto now = h.torrent_file_with_hashes();
        if (now && now->files().file_path(last) == last_to)
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    spdlog::info("torrent {}: renamed {} to {} ({} file(s))", id, path, name, changes.size());
    std::lock_guard lock(impl_->mutex);
    if (auto e = impl_->find(id))
        impl_->mark_dirty(**e); // the new names live in the resume data
    auto const slash = path.rfind('/');
    return (slash == std::string::npos ? std::string() : path.substr(0, slash + 1)) + name;
}

} // namespace seedbox::daemon
