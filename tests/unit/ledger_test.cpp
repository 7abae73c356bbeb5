#include "ledger/state_store.h"
#include "temp_dir.h"

#include <doctest/doctest.h>
#include <filesystem>

using namespace seedbox::ledger;
namespace fs = std::filesystem;

using seedbox::test::TempDir;

TEST_CASE("state store round-trips torrents, resume data and blobs across reopen")
{
    TempDir dir;
    auto db = (dir.path / "state.db").string();
    {
        std::string err;
        auto store = StateStore::open(db, err);
        REQUIRE(store);
        TorrentRow row{"abc", "magnet", {'m'}, "/data", R"({"labels":["x"]})", 42, {}, 0};
        CHECK(StateStore::wait([&](auto done) { store->insert_torrent(row, done); }).empty());
        store->save_resume("abc", {1, 2, 3}, 77);
        CHECK(StateStore::wait([&](auto done) {
                  store->put_blob("settings", {'{', '}'}, done);
              }).empty());
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

TEST_CASE("a failing job rolls back alone and the rest of its batch commits")
{
    TempDir dir;
    std::string err;
    auto store = StateStore::open((dir.path / "s.db").string(), err);
    REQUIRE(store);
    // source_kind has a CHECK constraint: this insert must fail without harming the next one.
    TorrentRow bad{"bad", "nonsense", {'x'}, "/d", "{}", 1, {}, 0};
    TorrentRow good{"good", "metainfo", {'x'}, "/d", "{}", 1, {}, 0};
    std::string bad_err, good_err;
    store->insert_torrent(bad, [&](std::string const& e) { bad_err = e; });
    store->insert_torrent(good, [&](std::string const& e) { good_err = e; });
    store->flush();
    CHECK_FALSE(bad_err.empty());
    CHECK(good_err.empty());
    auto rows = store->load_torrents();
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].id == "good");
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
