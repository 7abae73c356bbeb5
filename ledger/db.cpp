#include "ledger/db.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include <string>
#include <unordered_map>

namespace seedbox::ledger {

namespace {

struct TextHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

} // namespace

struct Db::Cache {
    struct Kept {
        sqlite3_stmt* stmt = nullptr;
        bool in_use = false;
    };
    // Nodes never move, so a Stmt's pointer to its `in_use` stays valid while the cache lives.
    std::unordered_map<std::string, Kept, TextHash, std::equal_to<>> by_text;
};

Db::Db() : cache_(std::make_unique<Cache>()) {}

Db::Db(Db&& other) noexcept : db_(other.db_), cache_(std::move(other.cache_))
{
    other.db_ = nullptr;
}

Db& Db::operator=(Db&& other) noexcept
{
    if (this != &other) {
        close();
        db_ = other.db_;
        cache_ = std::move(other.cache_);
        other.db_ = nullptr;
    }
    return *this;
}

Db::~Db()
{
    close();
}

void Db::close()
{
    if (cache_) {
        for (auto& [text, kept] : cache_->by_text)
            sqlite3_finalize(kept.stmt);
        cache_->by_text.clear();
    }
    if (db_)
        sqlite3_close_v2(db_);
    db_ = nullptr;
}

std::string Db::open(std::string const& path, std::string_view synchronous)
{
    // Memory statistics take a global mutex on every allocation; nothing here reads them. Must
    // run before SQLite initialises, i.e. before the first open.
    static bool const configured = [] {
        sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
        return true;
    }();
    static_cast<void>(configured);
    // Create the file 0600 ourselves whatever the umask: SQLite would make it 0644 less the umask,
    // and gives its -wal and -shm files the database file's mode.
    if (path != ":memory:") {
        int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
            return "cannot open " + path + ": " + std::strerror(errno);
        ::fchmod(fd, 0600);
        ::close(fd);
    }
    int rc =
        sqlite3_open_v2(path.c_str(), &db_,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        std::string err = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
        sqlite3_close_v2(db_);
        db_ = nullptr;
        return "cannot open " + path + ": " + err;
    }
    sqlite3_busy_timeout(db_, 5000);
    auto err = exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=" + std::string(synchronous) +
                    "; PRAGMA foreign_keys=ON; PRAGMA cache_size=-16384;");
    if (!err.empty())
        return path + ": " + err;
    return {};
}

std::string Db::exec(std::string_view sql)
{
    char* msg = nullptr;
    int rc = sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, &msg);
    if (rc == SQLITE_OK)
        return {};
    std::string err = msg ? msg : sqlite3_errstr(rc);
    sqlite3_free(msg);
    return err;
}

std::string Db::run(std::string_view sql)
{
    auto st = prepare(sql);
    if (!st.ok() || !st.run())
        return st.error();
    return {};
}

Stmt Db::prepare(std::string_view sql)
{
    if (!cache_) // moved from
        return Stmt(db_, sql);
    auto it = cache_->by_text.find(sql);
    if (it == cache_->by_text.end()) {
        if (cache_->by_text.size() >= kCachedStatements)
            return Stmt(db_, sql);
        sqlite3_stmt* stmt = nullptr;
        if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                               SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
            sqlite3_finalize(stmt);
            return Stmt(db_, sql); // which fails the same way, and says why
        }
        it = cache_->by_text.emplace(std::string(sql), Cache::Kept{stmt, false}).first;
    }
    if (it->second.in_use) // the same text twice at once (nested): a second, unkept one
        return Stmt(db_, sql);
    it->second.in_use = true;
    return Stmt(db_, it->second.stmt, &it->second.in_use);
}

std::string Db::last_error() const
{
    return db_ ? sqlite3_errmsg(db_) : "database not open";
}

std::int64_t Db::changes() const
{
    return sqlite3_changes64(db_);
}

std::int64_t Db::last_insert_id() const
{
    return sqlite3_last_insert_rowid(db_);
}

Stmt::Stmt(sqlite3* db, std::string_view sql) : db_(db)
{
    if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr) !=
        SQLITE_OK) {
        error_ = sqlite3_errmsg(db);
        stmt_ = nullptr;
    }
}

Stmt::Stmt(sqlite3* db, sqlite3_stmt* kept, bool* in_use) : db_(db), stmt_(kept), in_use_(in_use) {}

Stmt::Stmt(Stmt&& other) noexcept
    : db_(other.db_), stmt_(other.stmt_), in_use_(other.in_use_), error_(std::move(other.error_))
{
    other.stmt_ = nullptr;
    other.in_use_ = nullptr;
}

Stmt::~Stmt()
{
    if (!in_use_) {
        sqlite3_finalize(stmt_);
        return;
    }
    // Handed back ready for its next use, holding no read snapshot (which would keep WAL
    // checkpoints from finishing) and no copy of its bound values.
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    *in_use_ = false;
}

Stmt& Stmt::bind(int index, std::int64_t value)
{
    if (stmt_)
        sqlite3_bind_int64(stmt_, index, value);
    return *this;
}

Stmt& Stmt::bind(int index, std::string_view value)
{
    // An empty view may have a null data(), which SQLite would store as NULL, not ''.
    if (stmt_)
        sqlite3_bind_text64(stmt_, index, value.data() ? value.data() : "", value.size(),
                            SQLITE_TRANSIENT, SQLITE_UTF8);
    return *this;
}

Stmt& Stmt::bind(int index, std::span<std::uint8_t const> value)
{
    if (stmt_)
        sqlite3_bind_blob64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT);
    return *this;
}

Stmt& Stmt::bind_null(int index)
{
    if (stmt_)
        sqlite3_bind_null(stmt_, index);
    return *this;
}

bool Stmt::step()
{
    if (!stmt_)
        return false;
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW)
        return true;
    if (rc != SQLITE_DONE)
        error_ = sqlite3_errmsg(db_);
    return false;
}

bool Stmt::run()
{
    while (step()) {
    }
    return stmt_ && error_.empty();
}

void Stmt::reset()
{
    if (stmt_) {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
    }
    error_.clear();
}

std::int64_t Stmt::column_int(int i) const
{
    return sqlite3_column_int64(stmt_, i);
}

std::string Stmt::column_text(int i) const
{
    auto const* p = reinterpret_cast<char const*>(sqlite3_column_text(stmt_, i));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, i))) : "";
}

Blob Stmt::column_blob(int i) const
{
    auto const* p = static_cast<std::uint8_t const*>(sqlite3_column_blob(stmt_, i));
    return p ? Blob(p, p + sqlite3_column_bytes(stmt_, i)) : Blob{};
}

bool Stmt::column_null(int i) const
{
    return sqlite3_column_type(stmt_, i) == SQLITE_NULL;
}

char const* sqlite_version()
{
    return sqlite3_libversion();
}

std::string migrate(Db& db, std::vector<std::string_view> const& steps)
{
    auto version_stmt = db.prepare("PRAGMA user_version");
    if (!version_stmt.step())
        return "cannot read schema version: " + db.last_error();
    auto version = version_stmt.column_int(0);
    if (version > static_cast<std::int64_t>(steps.size()))
        return "database schema version " + std::to_string(version) +
               " is newer than this seedboxd understands (" + std::to_string(steps.size()) + ")";
    for (auto v = version; v < static_cast<std::int64_t>(steps.size()); ++v) {
        std::string sql = "BEGIN IMMEDIATE;";
        sql += steps[static_cast<std::size_t>(v)];
        sql += ";PRAGMA user_version=" + std::to_string(v + 1) + ";COMMIT;";
        if (auto err = db.exec(sql); !err.empty()) {
            (void)db.exec("ROLLBACK");
            return "migration " + std::to_string(v + 1) + " failed: " + err;
        }
    }
    return {};
}

std::optional<Connections> open_migrated(std::string const& path, std::string_view synchronous,
                                         std::vector<std::string_view> const& steps,
                                         std::string& error)
{
    Connections c;
    if (error = c.writer.open(path, synchronous); !error.empty())
        return std::nullopt;
    if (error = migrate(c.writer, steps); !error.empty()) {
        error = path + ": " + error;
        return std::nullopt;
    }
    if (error = c.reader.open(path, synchronous); !error.empty())
        return std::nullopt;
    return c;
}

} // namespace seedbox::ledger
