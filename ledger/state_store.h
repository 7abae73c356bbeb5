// state.db: the torrents the daemon manages (source, save path, our own settings as JSON, resume
// data, a stable number from an only-growing counter) and small session blobs (libtorrent session
// params, runtime settings). SQLite in WAL with synchronous=NORMAL: a committed row survives kill
// -9. All writes go through one Writer thread. Thread-safety: every method may be called from any
// thread; load_* are meant for start-up.
#pragma once

#include "ledger/db.h"
#include "ledger/writer.h"

#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace seedbox::ledger {

// A torrent's own settings (torrents.meta) and save path, as update_meta writes them.
struct MetaUpdate {
    std::string meta_json;
    std::string save_path;
};

struct TorrentRow {
    std::string id;          // info-hash hex
    std::string source_kind; // "metainfo" | "magnet"
    Blob source;             // bencoded .torrent, or the magnet URI bytes
    std::string save_path;
    std::string meta_json; // labels, limits, times: owned by the daemon
    std::int64_t added_time = 0;
    Blob resume; // libtorrent resume data (bencoded), may be empty
    std::int64_t resume_time = 0;
    // Stable small integer id, >= 1 (Transmission's torrent id): given by insert_torrent, never
    // changed, never reused for another torrent. Ignored when inserting.
    std::int64_t number = 0;
};

class StateStore {
public:
    // Opens or creates the file and applies migrations. Returns nullptr and sets `error` on
    // failure.
    static std::unique_ptr<StateStore> open(std::string const& path, std::string& error);

    [[nodiscard]] std::vector<TorrentRow> load_torrents();
    [[nodiscard]] std::optional<Blob> get_blob(std::string const& key);

    // Writes never block: `done` (optional) runs on the writer thread after the commit, with an
    // error message or empty. Use wait() to block a worker thread until committed.
    //
    // insert_torrent's `done` also gets the torrent's number (0 on error): the next one for a new
    // id; for an id already stored, its row is replaced but keeps its number.
    using Inserted = std::function<void(std::string const& error, std::int64_t number)>;
    void insert_torrent(TorrentRow const& row, Inserted done = {});
    void update_meta(std::string const& id, std::string const& meta_json,
                     std::string const& save_path, Writer::Done done = {});
    void remove_torrent(std::string const& id, Writer::Done done = {});
    void put_blob(std::string const& key, Blob value, Writer::Done done = {});
    // With `meta`, also writes what update_meta would, in the same statement's transaction.
    void save_resume(std::string const& id, Blob resume, std::int64_t when,
                     std::optional<MetaUpdate> meta = std::nullopt, Writer::Done done = {});
    void save_source(std::string const& id, Blob metainfo, Writer::Done done = {});

    // Runs `op(done)` and blocks until `done` is called; returns its error. Worker threads only.
    // A hold (hold()) does not delay it.
    template <class Op> std::string wait(Op&& op)
    {
        auto const urgent = writer_->urgent();
        std::promise<std::string> p;
        auto f = p.get_future();
        op([&p](std::string const& e) { p.set_value(e); });
        return f.get();
    }

    // Writer::hold: while the token lives, writes wait (at most Writer::kMaxHold) so that those
    // made meanwhile share one transaction.
    [[nodiscard]] std::shared_ptr<void> hold() { return writer_->hold(); }
    // Writer::urgent: for a caller about to block on a commit it did not submit through wait().
    [[nodiscard]] std::shared_ptr<void> urgent() { return writer_->urgent(); }

    void flush() { writer_->flush(); }

private:
    explicit StateStore(std::unique_ptr<Writer> writer, Db reader);

    std::unique_ptr<Writer> writer_;
    std::mutex read_mutex_;
    Db reader_;
};

} // namespace seedbox::ledger
