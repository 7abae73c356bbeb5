// Thin RAII over SQLite: a connection, prepared statements, and errors as values.
// A Db is used by one thread at a time (the owner); it is not internally locked. It keeps the
// statements it prepared (at most kCachedStatements, keyed by their text) and hands them out again
// reset, so a statement run often is parsed once per connection; a Stmt must not outlive its Db.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace seedbox::ledger {

using Blob = std::vector<std::uint8_t>;

class Stmt;

class Db {
public:
    // Statements kept per connection. The SQL we run is a fixed set (about 60 texts in all, some
    // built from constant parts); a text beyond this is prepared for its one use, as before.
    static constexpr std::size_t kCachedStatements = 128;

    Db();
    Db(Db&&) noexcept;
    Db& operator=(Db&&) noexcept;
    Db(Db const&) = delete;
    Db& operator=(Db const&) = delete;
    ~Db();

    // Opens (creating if needed) with WAL and the given synchronous level ("NORMAL" or "FULL").
    // Returns an error message, empty on success.
    [[nodiscard]] std::string open(std::string const& path, std::string_view synchronous);

    // Runs one or more statements without results; returns an error message or empty.
    [[nodiscard]] std::string exec(std::string_view sql);
    // Runs one statement without results (BEGIN, COMMIT, SAVEPOINT...) through the statement
    // cache; returns an error message or empty.
    [[nodiscard]] std::string run(std::string_view sql);

    // The statement for `sql`: the kept one if it is free, else newly prepared (and kept while
    // there is room). It comes back reset and unbound when the Stmt is destroyed.
    [[nodiscard]] Stmt prepare(std::string_view sql);
    [[nodiscard]] std::string last_error() const;
    [[nodiscard]] sqlite3* handle() const { return db_; }
    [[nodiscard]] std::int64_t changes() const;
    [[nodiscard]] std::int64_t last_insert_id() const;

private:
    struct Cache;
    void close();

    sqlite3* db_ = nullptr;
    std::unique_ptr<Cache> cache_; // stable across moves: a kept Stmt points into it
};

class Stmt {
public:
    // Prepared for this Stmt alone, finalized with it.
    Stmt(sqlite3* db, std::string_view sql);
    Stmt(Stmt&&) noexcept;
    Stmt(Stmt const&) = delete;
    ~Stmt();

    [[nodiscard]] bool ok() const { return stmt_ != nullptr; }
    [[nodiscard]] std::string const& error() const { return error_; }

    Stmt& bind(int index, std::int64_t value);
    Stmt& bind(int index, std::string_view value);
    Stmt& bind(int index, std::span<std::uint8_t const> value);
    Stmt& bind_null(int index);

    // Steps once: true when a row is available, false when done; error() says if it failed.
    bool step();
    // Steps to completion; returns false on error.
    bool run();
    void reset();

    [[nodiscard]] std::int64_t column_int(int i) const;
    [[nodiscard]] std::string column_text(int i) const;
    [[nodiscard]] Blob column_blob(int i) const;
    [[nodiscard]] bool column_null(int i) const;

private:
    friend class Db;
    Stmt(sqlite3* db, sqlite3_stmt* kept, bool* in_use);

    sqlite3* db_ = nullptr;
    sqlite3_stmt* stmt_ = nullptr;
    bool* in_use_ = nullptr; // a kept statement: reset and handed back, not finalized
    std::string error_;
};

[[nodiscard]] char const* sqlite_version();

// Applies numbered migrations in order, recording the version in PRAGMA user_version, each in its
// own transaction. Returns an error message or empty.
[[nodiscard]] std::string migrate(Db& db, std::vector<std::string_view> const& steps);

// A migrated database opened twice: the write connection (for a Writer thread) and a reader.
struct Connections {
    Db writer;
    Db reader;
};
// Opens `path` with `synchronous`, applies `steps`; nullopt and `error` (naming the path) on
// failure.
[[nodiscard]] std::optional<Connections> open_migrated(std::string const& path,
                                                       std::string_view synchronous,
                                                       std::vector<std::string_view> const& steps,
                                                       std::string& error);

} // namespace seedbox::ledger
