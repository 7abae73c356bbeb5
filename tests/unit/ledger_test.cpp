#include "ledger/state_store.h"
#include "temp_dir.h"

#include <atomic>
#include <chrono>
#include <doctest/doctest.h>
#include <filesystem>
#include <future>
#include <map>
#include <utility>

using namespace seedbox::ledger;
namespace fs = std::filesystem;

using seedbox::test::TempDir;

namespace {

// insert_torrent, waited for: its error (empty on success) and the number it gave.
std::pair<std::string, std::int64_t> insert(StateStore& store, TorrentRow const& row)
{
    std::promise<std::pair<std::string, std::int64_t>> p;
    store.insert_torrent(row, [&p](std::string const& e, std::int64_t n) { p.set_value({e, n}); });
    return p.get_future().get();
}

TorrentRow magnet_row(std::string id)
{
    return {std::move(id), "magnet", {'m'}, "/data", "{}", 1, {}, 0, 0};
}

// id -> number of every stored torrent, as start-up reads them.
std::map<std::string, std::int64_t> numbers(StateStore& store)
{
    std::map<std::string, std::int64_t> out;
    for (auto const& row : store.load_torrents())
        out[row.id] = row.number;
    return out;
}

} // namespace

TEST_CASE("state store round-trips torrents, resume data and blobs across reopen")
{
    TempDir dir;
    auto db = (dir.path / "state.db").string();
    {
        std::string err;
        auto store = StateStore::open(db, err);
        REQUIRE(store);
        TorrentRow row{"abc", "magnet", {'m'}, "/data", R"({"labels":["x"]})", 42, {}, 0, 0};
        CHECK(insert(*store, row).first.empty());
        store->save_resume("abc", {1, 2, 3}, 77);
        CHECK(store->wait([&](auto done) {
                       store->put_blob("settings", {'{', '}'}, done);
                   })
                  .empty());
        store->flush();
    }
    std::string err;
    auto store = StateStore::open(db, err);
    REQUIRE(store);
    auto rows = store->load_torrents();
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].id == "abc");
    CHECK(rows[0].resume == Blob{1, 2, 3});
    CHECK(rows[0].resume_time == 77);
    CHECK(rows[0].meta_json == R"({"labels":["x"]})");
    CHECK(store->get_blob("settings") == Blob{'{', '}'});
    CHECK_FALSE(store->get_blob("missing"));
}

TEST_CASE("resume data saved with a meta update writes both, and only its own row")
{
    TempDir dir;
    std::string err;
    auto store = StateStore::open((dir.path / "s.db").string(), err);
    REQUIRE(store);
    TorrentRow a{"aa", "magnet", {'m'}, "/data", R"({"completed_time":0})", 1, {}, 0, 0};
    TorrentRow b{"bb", "magnet", {'m'}, "/data", R"({"completed_time":0})", 1, {}, 0, 0};
    REQUIRE(insert(*store, a).first.empty());
    REQUIRE(insert(*store, b).first.empty());
    CHECK(store
              ->wait([&](auto done) {
                  store->save_resume("aa", {7}, 88,
                                     MetaUpdate{R"({"completed_time":99})", "/moved"}, done);
              })
              .empty());
    CHECK(store->wait([&](auto done) { store->save_resume("bb", {8}, 89, {}, done); }).empty());
    auto rows = store->load_torrents();
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].resume == Blob{7});
    CHECK(rows[0].meta_json == R"({"completed_time":99})");
    CHECK(rows[0].save_path == "/moved");
    CHECK(rows[1].resume == Blob{8});
    CHECK(rows[1].meta_json == R"({"completed_time":0})"); // no meta given: left as it was
    CHECK(rows[1].save_path == "/data");
}

TEST_CASE("a failing job rolls back alone and the rest of its batch commits")
{
    TempDir dir;
    std::string err;
    auto store = StateStore::open((dir.path / "s.db").string(), err);
    REQUIRE(store);
    // source_kind has a CHECK constraint: this insert must fail without harming the next one.
    TorrentRow bad{"bad", "nonsense", {'x'}, "/d", "{}", 1, {}, 0, 0};
    TorrentRow good{"good", "metainfo", {'x'}, "/d", "{}", 1, {}, 0, 0};
    std::string bad_err, good_err;
    std::int64_t bad_number = -1, good_number = -1;
    store->insert_torrent(bad, [&](std::string const& e, std::int64_t n) {
        bad_err = e;
        bad_number = n;
    });
    store->insert_torrent(good, [&](std::string const& e, std::int64_t n) {
        good_err = e;
        good_number = n;
    });
    store->flush();
    CHECK_FALSE(bad_err.empty());
    CHECK(good_err.empty());
    // The failed insert's counter step rolled back with it: no number is lost.
    CHECK(bad_number == 0);
    CHECK(good_number == 1);
    auto rows = store->load_torrents();
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].id == "good");
    CHECK(rows[0].number == 1);
}

TEST_CASE("a newer schema than we know is refused")
{
    TempDir dir;
    auto path = (dir.path / "future.db").string();
    {
        Db db;
        REQUIRE(db.open(path, "NORMAL").empty());
        REQUIRE(db.exec("PRAGMA user_version=99").empty());
    }
    std::string err;
    CHECK_FALSE(StateStore::open(path, err));
    CHECK(err.find("newer") != std::string::npos);
}

TEST_CASE("torrent numbers count up from 1, survive a reopen and are never reused")
{
    TempDir dir;
    auto db = (dir.path / "state.db").string();
    {
        std::string err;
        auto store = StateStore::open(db, err);
        REQUIRE(store);
        CHECK(insert(*store, magnet_row("aa")) == std::pair<std::string, std::int64_t>{"", 1});
        CHECK(insert(*store, magnet_row("bb")) == std::pair<std::string, std::int64_t>{"", 2});
        CHECK(insert(*store, magnet_row("cc")) == std::pair<std::string, std::int64_t>{"", 3});
        CHECK(store->wait([&](auto done) { store->remove_torrent("cc", done); }).empty());
        CHECK(insert(*store, magnet_row("dd")).second == 4);
        // Stored again (replaced): it keeps its number and takes none from the counter.
        auto again = magnet_row("aa");
        again.save_path = "/elsewhere";
        CHECK(insert(*store, again).second == 1);
        CHECK(insert(*store, magnet_row("ee")).second == 5);
        // The highest number goes: a counter, not MAX(number) + 1, must still skip it.
        CHECK(store->wait([&](auto done) { store->remove_torrent("ee", done); }).empty());
        CHECK(numbers(*store) ==
              std::map<std::string, std::int64_t>{{"aa", 1}, {"bb", 2}, {"dd", 4}});
    }
    std::string err;
    auto store = StateStore::open(db, err);
    REQUIRE(store);
    CHECK(numbers(*store) == std::map<std::string, std::int64_t>{{"aa", 1}, {"bb", 2}, {"dd", 4}});
    auto rows = store->load_torrents();
    REQUIRE(rows.size() == 3);
    CHECK(rows[0].id == "aa");
    CHECK(rows[0].save_path == "/elsewhere");
    CHECK(insert(*store, magnet_row("ff")).second == 6);
}

TEST_CASE("the numbers migration numbers existing torrents in rowid order")
{
    // The schema of state.db version 1, as released: kept here so the migration is tested on
    // a file the way older daemons left it.
    std::string_view const v1 = R"sql(
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
)sql";
    TempDir dir;
    auto path = (dir.path / "state.db").string();
    {
        Db db;
        REQUIRE(db.open(path, "NORMAL").empty());
        REQUIRE(migrate(db, {v1}).empty());
        // Rowid order differs from id order, and a removed row leaves a gap.
        REQUIRE(
            db.exec("INSERT INTO torrents (id, source_kind, source, save_path, added_time) "
                    "VALUES ('zz', 'magnet', x'6d', '/d', 1), ('mm', 'magnet', x'6d', '/d', 2), "
                    "('aa', 'magnet', x'6d', '/d', 3); DELETE FROM torrents WHERE id = 'mm';")
                .empty());
    }
    std::string err;
    auto store = StateStore::open(path, err);
    REQUIRE(store);
    auto rows = store->load_torrents();
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].id == "zz");
    CHECK(rows[0].number == 1);
    CHECK(rows[1].id == "aa");
    CHECK(rows[1].number == 2);
    CHECK(rows[1].added_time == 3);
    // The counter starts after the backfilled numbers.
    CHECK(insert(*store, magnet_row("new")).second == 3);
}

TEST_CASE("a writer hold makes a burst of jobs one transaction, and never delays run()")
{
    TempDir dir;
    Db db;
    REQUIRE(db.open((dir.path / "w.db").string(), "NORMAL").empty());
    Writer writer(std::move(db), "test-writer");
    REQUIRE(writer.run([](Db& d) { return d.exec("CREATE TABLE t(n INTEGER)"); }).empty());
    std::atomic<int> executed{0};
    auto job = [&](Db& d) {
        ++executed;
        return d.exec("INSERT INTO t VALUES (1)");
    };
    // Held: the first job's completion comes after all three ran, in the same commit.
    std::promise<int> seen_by_first;
    auto first_done = seen_by_first.get_future();
    {
        auto const hold = writer.hold();
        writer.submit(job, [&](std::string const&) { seen_by_first.set_value(executed.load()); });
        writer.submit(job);
        writer.submit(job);
    }
    REQUIRE(first_done.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    CHECK(first_done.get() == 3);
    // A blocking run() under a hold that is never released goes through, and takes the held
    // job with it.
    auto const hold = writer.hold();
    std::promise<void> held_done;
    writer.submit(job, [&](std::string const&) { held_done.set_value(); });
    CHECK(writer.run(job).empty());
    CHECK(held_done.get_future().wait_for(std::chrono::seconds(0)) == std::future_status::ready);
    CHECK(executed.load() == 5);
    // A hold left alive lets a job wait kMaxHold at most.
    std::promise<void> late;
    writer.submit(job, [&](std::string const&) { late.set_value(); });
    CHECK(late.get_future().wait_for(Writer::kMaxHold * 10) == std::future_status::ready);
}
