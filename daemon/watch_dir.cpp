#include "daemon/watch_dir.h"

#include "daemon/base/threads.h"
#include "daemon/torrent/engine.h"

#include <spdlog/spdlog.h>

#include <fstream>
#include <iterator>
#include <set>

namespace seedbox::daemon {

namespace fs = std::filesystem;

namespace {

bool wanted(fs::path const& p)
{
    auto ext = p.extension().string();
    return ext == ".torrent" || ext == ".magnet";
}

// Moves `file` into root/<sub>/ without overwriting: "x.torrent", "x.1.torrent", ...
void move_aside(fs::path const& file, fs::path const& root, char const* sub)
{
    std::error_code ec;
    auto dest_dir = root / sub;
    fs::create_directories(dest_dir, ec);
    auto dest = dest_dir / file.filename();
    for (int i = 1; fs::exists(dest, ec) && i < 1000; ++i)
        dest =
            dest_dir / (file.stem().string() + "." + std::to_string(i) + file.extension().string());
    fs::rename(file, dest, ec);
    if (ec) {
        spdlog::warn("watch: cannot move {} to {}: {}; removing it so it is not added again",
                     file.string(), dest.string(), ec.message());
        fs::remove(file, ec);
    }
}

} // namespace

WatchDir::WatchDir(Engine& engine) : engine_(engine) {}

WatchDir::~WatchDir()
{
    stop();
}

void WatchDir::configure(std::string dir, std::chrono::seconds interval)
{
    {
        std::lock_guard lock(mutex_);
        if (dir != dir_ && dir.empty())
            spdlog::info("watch: off");
        else if (dir != dir_)
            spdlog::info("watch: adding torrents dropped into {}", dir);
        dir_ = std::move(dir);
        interval_ = interval;
        if (!dir_.empty() && !thread_.joinable() && !stopping_)
            thread_ = std::thread([this] {
                name_this_thread("sbx-watch");
                run();
            });
    }
    wake_.notify_all();
}

void WatchDir::stop()
{
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable())
        thread_.join();
}

void WatchDir::run()
{
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        auto dir = dir_;
        auto interval = interval_;
        if (!dir.empty()) {
            lock.unlock();
            try {
                scan(dir);
            } catch (std::exception const& e) {
                spdlog::warn("watch: scanning {}: {}", dir, e.what());
            }
            lock.lock();
        }
        wake_.wait_for(lock, interval, [&] { return stopping_ || dir_ != dir; });
    }
}

void WatchDir::scan(fs::path const& root)
{
    std::error_code ec;
    if (!fs::is_directory(root, ec)) {
        if (!fs::create_directories(root, ec) || ec)
            spdlog::warn("watch: {} is not a directory{}", root.string(),
                         ec ? ": " + ec.message() : "");
        return;
    }
    // root/*.torrent (no label) and root/<label>/*.torrent; dot-folders (.added, .invalid) skipped.
    std::vector<std::pair<fs::path, std::string>> files;
    for (auto const& entry : fs::directory_iterator(root, ec)) {
        auto const name = entry.path().filename().string();
        if (name.empty() || name[0] == '.')
            continue;
        if (entry.is_regular_file(ec) && wanted(entry.path())) {
            files.emplace_back(entry.path(), "");
        } else if (entry.is_directory(ec)) {
            for (auto const& sub : fs::directory_iterator(entry.path(), ec))
                if (sub.is_regular_file(ec) && wanted(sub.path()) &&
                    sub.path().filename().string()[0] != '.')
                    files.emplace_back(sub.path(), name);
        }
    }
    std::set<std::string> present;
    for (auto const& [file, label] : files) {
        auto const key = file.string();
        present.insert(key);
        auto size = fs::file_size(file, ec);
        auto mtime = fs::last_write_time(file, ec);
        if (ec)
            continue;
        auto it = seen_.find(key);
        if (it == seen_.end() || it->second != std::make_pair(size, mtime)) {
            seen_[key] = {size, mtime}; // new or still being written: next scan
            continue;
        }
        seen_.erase(it);
        present.erase(key);
        take(file, root, label);
    }
    for (auto it = seen_.begin(); it != seen_.end();)
        it = present.count(it->first) ? std::next(it) : seen_.erase(it);
}

void WatchDir::take(fs::path const& file, fs::path const& root, std::string const& label)
{
    AddRequest req;
    std::ifstream in(file, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    if (file.extension() == ".magnet") {
        auto end = bytes.find_first_of("\r\n");
        req.magnet = bytes.substr(0, end);
        while (!req.magnet.empty() && req.magnet.back() == ' ')
            req.magnet.pop_back();
    } else {
        req.metainfo = std::move(bytes);
    }
    if (!label.empty())
        req.labels = {label};
    auto r = engine_.add(req);
    if (!r) {
        spdlog::warn("watch: {} not added: {}; moved to .invalid/", file.string(),
                     r.error().message);
        move_aside(file, root, ".invalid");
        return;
    }
    spdlog::info("watch: {} {} ({}){}", r->added ? "added" : "already had", r->name, r->id,
                 label.empty() ? "" : " with label " + label);
    move_aside(file, root, ".added");
}

} // namespace seedbox::daemon
