#include "ledger/state_store.h"

namespace seedbox::ledger {
namespace {

std::vector<std::string_view> const kMigrations = {
    R"sql(
CREATE TABLE torrents (
    id          TEXT PRIMARY KEY,
    source_kind TEXT NOT NULL CHECK (source_kind IN ('metainfo', 'magnet')),
    source      BLOB NOT NULL,
    save_path   TEXT NOT NULL,
    meta        TEXT NOT NULL DEFAULT '{}',
    added_time  INTEGER NOT NULL,
    resume      BLOB,
    resume_time INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE blobs (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
)sql",
    // Each torrent gets a small integer "number" (Transmission's torrent id): existing rows in
    // rowid order from 1, then one more than the counter for every new row. The counter only
    // grows, so a number is never given to another torrent, even after removals.
    R"sql(
ALTER TABLE torrents ADD COLUMN number INTEGER;
UPDATE torrents SET number = numbered.n
    FROM (SELECT rowid AS rid, row_number() OVER (ORDER BY rowid) AS n FROM torrents) AS numbered
    WHERE torrents.rowid = numbered.rid;
CREATE UNIQUE INDEX torrents_number ON torrents (number);
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO counters (name, value)
    SELECT 'torrent_number', COALESCE(MAX(number), 0) FROM torrents;
)sql",
};

std::string run_stmt(Stmt& s)
{
    if (!s.ok() || !s.run())
        return s.error();
    return {};
}

// The number of torrent `id`: the one it has if its row exists, else the next from the counter
// (which this takes, so the caller must insert the row in the same transaction).
std::string number_for(Db& db, std::string const& id, std::int64_t& number)
{
    auto existing = db.prepare("SELECT number FROM torrents WHERE id = ? AND number IS NOT NULL");
    existing.bind(1, id);
    if (existing.step()) {
        number = existing.column_int(0);
        return {};
    }
    if (!existing.error().empty())
        return existing.error();
    auto next = db.prepare("UPDATE counters SET value = value + 1 WHERE name = 'torrent_number' "
                           "RETURNING value");
    if (!next.step())
        return next.error().empty() ? "the torrent_number counter is missing" : next.error();
    number = next.column_int(0);
    return {};
}

// Inserts or replaces the row of `row.id`, keeping its number (and rowid) if it exists.
std::string upsert_torrent(Db& db, TorrentRow const& row, std::int64_t& number)
{
    if (auto err = number_for(db, row.id, number); !err.empty())
        return err;
    auto s = db.prepare("INSERT INTO torrents (id, source_kind, source, save_path, meta, "
                        "added_time, resume, resume_time, number) VALUES (?,?,?,?,?,?,?,?,?) "
                        "ON CONFLICT (id) DO UPDATE SET source_kind = excluded.source_kind, "
                        "source = excluded.source, save_path = excluded.save_path, "
                        "meta = excluded.meta, added_time = excluded.added_time, "
                        "resume = excluded.resume, resume_time = excluded.resume_time, "
                        "number = COALESCE(number, excluded.number)");
    s.bind(1, row.id).bind(2, row.source_kind).bind(3, row.source).bind(4, row.save_path);
    s.bind(5, row.meta_json).bind(6, row.added_time);
    if (row.resume.empty())
        s.bind_null(7);
    else
        s.bind(7, row.resume);
    s.bind(8, row.resume_time).bind(9, number);
    return run_stmt(s);
}

std::string write_meta(Db& db, std::string const& id, MetaUpdate const& meta)
{
    auto s = db.prepare("UPDATE torrents SET meta = ?, save_path = ? WHERE id = ?");
    s.bind(1, meta.meta_json).bind(2, meta.save_path).bind(3, id);
    return run_stmt(s);
}

} // namespace

StateStore::StateStore(std::unique_ptr<Writer> writer, Db reader)
    : writer_(std::move(writer)), reader_(std::move(reader))
{
}

constexpr int kCacheKiB = 256; // per connection

std::unique_ptr<StateStore> StateStore::open(std::string const& path, std::string& error)
{
    auto c = open_migrated(path, "NORMAL", kMigrations, error);
    if (!c)
        return nullptr;
    // SQLite's default page cache (2 MiB per connection) filled with torrent rows is 2.2 KiB per
    // torrent at 1,000 (bench/control_bench.py); rows are read once at start and written one at a
    // time, so a small cache costs nothing measurable.
    for (auto* db : {&c->writer, &c->reader})
        if (error = db->exec("PRAGMA cache_size = -" + std::to_string(kCacheKiB)); !error.empty())
            return nullptr;
    return std::unique_ptr<StateStore>(new StateStore(
        std::make_unique<Writer>(std::move(c->writer), "sbx-state-db"), std::move(c->reader)));
}

std::vector<TorrentRow> StateStore::load_torrents()
{
    std::lock_guard lock(read_mutex_);
    std::vector<TorrentRow> rows;
    auto s = reader_.prepare("SELECT id, source_kind, source, save_path, meta, added_time, resume, "
                             "resume_time, number FROM torrents ORDER BY rowid");
    while (s.step()) {
        rows.push_back({s.column_text(0), s.column_text(1), s.column_blob(2), s.column_text(3),
                        s.column_text(4), s.column_int(5), s.column_blob(6), s.column_int(7),
                        s.column_int(8)});
    }
    return rows;
}

std::optional<Blob> StateStore::get_blob(std::string const& key)
{
    std::lock_guard lock(read_mutex_);
    auto s = reader_.prepare("SELECT value FROM blobs WHERE key = ?");
    s.bind(1, key);
    if (!s.step())
        return std::nullopt;
    return s.column_blob(0);
}

void StateStore::insert_torrent(TorrentRow const& row, Inserted done)
{
    // Written by the job, read by `done` after the commit (both on the writer thread).
    auto number = std::make_shared<std::int64_t>(0);
    Writer::Done committed;
    if (done)
        committed = [number, done = std::move(done)](std::string const& err) {
            done(err, err.empty() ? *number : 0);
        };
    writer_->submit([row, number](Db& db) { return upsert_torrent(db, row, *number); },
                    std::move(committed));
}

void StateStore::update_meta(std::string const& id, std::string const& meta_json,
                             std::string const& save_path, Writer::Done done)
{
    writer_->submit(
        [id, meta = MetaUpdate{meta_json, save_path}](Db& db) { return write_meta(db, id, meta); },
        std::move(done));
}

void StateStore::remove_torrent(std::string const& id, Writer::Done done)
{
    writer_->submit(
        [id](Db& db) {
            auto s = db.prepare("DELETE FROM torrents WHERE id = ?");
            s.bind(1, id);
            return run_stmt(s);
        },
        std::move(done));
}

void StateStore::put_blob(std::string const& key, Blob value, Writer::Done done)
{
    writer_->submit(
        [key, value = std::move(value)](Db& db) {
            auto s = db.prepare("INSERT OR REPLACE INTO blobs (key, value) VALUES (?, ?)");
            s.bind(1, key).bind(2, value);
            return run_stmt(s);
        },
        std::move(done));
}

void StateStore::save_resume(std::string const& id, Blob resume, std::int64_t when,
                             std::optional<MetaUpdate> meta, Writer::Done done)
{
    writer_->submit(
        [id, resume = std::move(resume), when, meta = std::move(meta)](Db& db) {
            if (meta)
                if (auto err = write_meta(db, id, *meta); !err.empty())
                    return err;
            auto s = db.prepare("UPDATE torrents SET resume = ?, resume_time = ? WHERE id = ?");
            s.bind(1, resume).bind(2, when).bind(3, id);
            return run_stmt(s);
        },
        std::move(done));
}

void StateStore::save_source(std::string const& id, Blob metainfo, Writer::Done done)
{
    writer_->submit(
        [id, metainfo = std::move(metainfo)](Db& db) {
            auto s =
                db.prepare("UPDATE torrents SET source_kind = 'metainfo', source = ? WHERE id = ?");
            s.bind(1, metainfo).bind(2, id);
            return run_stmt(s);
        },
        std::move(done));
}

} // namespace seedbox::ledger
