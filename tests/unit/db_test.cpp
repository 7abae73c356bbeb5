// ledger::Db's statement cache: a kept statement comes back reset, unbound and holding no read
// snapshot; the same text twice at once, a full cache and bad SQL all still work.
#include "ledger/db.h"
#include "temp_dir.h"

#include <doctest/doctest.h>
#include <string>

using seedbox::ledger::Db;
using seedbox::test::TempDir;

namespace {

Db opened(std::string const& path)
{
    Db db;
    auto err = db.open(path, "NORMAL");
    REQUIRE(err.empty());
    return db;
}

std::int64_t count_rows(Db& db)
{
    auto s = db.prepare("SELECT COUNT(*) FROM t");
    REQUIRE(s.step());
    return s.column_int(0);
}

} // namespace

TEST_CASE("a kept statement comes back reset and without its old bindings")
{
    TempDir dir;
    auto db = opened((dir.path / "a.db").string());
    REQUIRE(db.exec("CREATE TABLE t (v INTEGER)").empty());
    for (int i = 0; i < 3; ++i) {
        auto ins = db.prepare("INSERT INTO t (v) VALUES (?)");
        if (i < 2) // the third use binds nothing: it must insert NULL, not the last value
            ins.bind(1, std::int64_t{40 + i});
        REQUIRE(ins.run());
    }
    auto s = db.prepare("SELECT v FROM t ORDER BY rowid");
    REQUIRE(s.step());
    CHECK(s.column_int(0) == 40);
    REQUIRE(s.step());
    CHECK(s.column_int(0) == 41);
    REQUIRE(s.step());
    CHECK(s.column_null(0));
    CHECK_FALSE(s.step());
    CHECK(count_rows(db) == 3);
    CHECK(count_rows(db) == 3); // kept, run again from its first row
}

TEST_CASE("the same text twice at once steps independently")
{
    TempDir dir;
    auto db = opened((dir.path / "a.db").string());
    REQUIRE(db.exec("CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (1), (2);").empty());
    auto outer = db.prepare("SELECT v FROM t ORDER BY v");
    auto inner = db.prepare("SELECT v FROM t ORDER BY v");
    REQUIRE(outer.step());
    REQUIRE(inner.step());
    REQUIRE(inner.step());
    CHECK(inner.column_int(0) == 2);
    CHECK(outer.column_int(0) == 1);
    REQUIRE(outer.step());
    CHECK(outer.column_int(0) == 2);
}

TEST_CASE("a kept statement left mid-result holds no read snapshot")
{
    TempDir dir;
    auto const path = (dir.path / "a.db").string();
    auto reader = opened(path);
    auto writer = opened(path);
    REQUIRE(writer.exec("CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (1), (2);").empty());
    {
        auto s = reader.prepare("SELECT v FROM t");
        REQUIRE(s.step()); // a read transaction is open until the statement is reset
    }
    REQUIRE(writer.exec("INSERT INTO t VALUES (3)").empty());
    // A TRUNCATE checkpoint reports busy (1) while any reader still has an older snapshot.
    auto cp = writer.prepare("PRAGMA wal_checkpoint(TRUNCATE)");
    REQUIRE(cp.step());
    CHECK(cp.column_int(0) == 0);
    CHECK(count_rows(reader) == 3);
}

TEST_CASE("texts beyond the cache, bad SQL and run() all behave as uncached ones")
{
    TempDir dir;
    auto db = opened((dir.path / "a.db").string());
    REQUIRE(db.run("CREATE TABLE t (v INTEGER)").empty());
    for (std::size_t i = 0; i < Db::kCachedStatements + 20; ++i) {
        auto s = db.prepare("INSERT INTO t (v) VALUES (" + std::to_string(i) + ")");
        REQUIRE(s.run());
    }
    CHECK(count_rows(db) == static_cast<std::int64_t>(Db::kCachedStatements + 20));
    auto bad = db.prepare("SELECT nope FROM t");
    CHECK_FALSE(bad.ok());
    CHECK(bad.error().find("nope") != std::string::npos);
    CHECK(db.run("BEGIN IMMEDIATE").empty());
    CHECK(db.run("INSERT INTO t (v) VALUES (-1)").empty());
    CHECK(db.run("ROLLBACK").empty());
    CHECK(count_rows(db) == static_cast<std::int64_t>(Db::kCachedStatements + 20));
    CHECK_FALSE(db.run("COMMIT").empty()); // no transaction: an error, not a crash
}

TEST_CASE("a moved Db keeps its kept statements working")
{
    TempDir dir;
    auto db = opened((dir.path / "a.db").string());
    REQUIRE(db.exec("CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (7);").empty());
    CHECK(count_rows(db) == 1);
    Db moved = std::move(db);
    CHECK(count_rows(moved) == 1);
    Db assigned;
    assigned = std::move(moved);
    CHECK(count_rows(assigned) == 1);
}
