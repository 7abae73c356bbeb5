// The watch directory: .torrent and .magnet files dropped into watch.dir (or a subfolder, whose
// name becomes the torrent's label) are added once they stop changing, then moved to .added/ —
// or to .invalid/ with the reason logged, so a bad file is not retried forever. Polls (works on
// NFS/CIFS, where inotify does not) on its own thread, since Engine::add may block.
#pragma once

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace seedbox::daemon {

class Engine;

class WatchDir {
public:
    explicit WatchDir(Engine& engine);
    ~WatchDir();
    WatchDir(WatchDir const&) = delete;

    // Starts, changes or (dir empty) stops watching. Any thread.
    void configure(std::string dir, std::chrono::seconds interval);
    // Stops the thread; pending files stay where they are.
    void stop();

private:
    void run();
    void scan(std::filesystem::path const& dir);
    void take(std::filesystem::path const& file, std::filesystem::path const& root,
              std::string const& label);

    Engine& engine_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::string dir_;
    std::chrono::seconds interval_{5};
    bool stopping_ = false;
    std::thread thread_;
    // Files seen last scan: path -> (size, mtime). A file is taken when it is unchanged.
    std::map<std::string, std::pair<std::uintmax_t, std::filesystem::file_time_type>> seen_;
};

} // namespace seedbox::daemon
