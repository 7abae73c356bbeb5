#include "ledger/ledger.h"

#include <chrono>
#include <map>

namespace seedbox::ledger {

using json = nlohmann::json;
using tron::Uint256;

namespace {

std::vector<std::string_view> const kMigrations = {
    R"sql(
CREATE TABLE counterparties (
    id         INTEGER PRIMARY KEY,
    address    TEXT NOT NULL DEFAULT '',  -- Base58 when authenticated; '' = anonymous
    torrent    TEXT NOT NULL DEFAULT '',  -- anonymous only: (torrent, ip, client) is the identity
    ip         TEXT NOT NULL DEFAULT '',
    client     TEXT NOT NULL DEFAULT '',
    carry      TEXT NOT NULL DEFAULT '0', -- bytes*price below one base unit, carried forward
    first_seen INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    UNIQUE (address, torrent, ip, client)
);
CREATE TABLE flushes (
    id   INTEGER PRIMARY KEY,
    time INTEGER NOT NULL
);
CREATE TABLE journal (
    id           INTEGER PRIMARY KEY,
    flush        INTEGER NOT NULL REFERENCES flushes(id),
    counterparty INTEGER NOT NULL REFERENCES counterparties(id),
    torrent      TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('accrued', 'vouchered', 'claimed', 'confirmed',
                                               'reverted')),
    bytes_up     INTEGER NOT NULL DEFAULT 0 CHECK (bytes_up >= 0),
    bytes_down   INTEGER NOT NULL DEFAULT 0 CHECK (bytes_down >= 0),
    price        TEXT NOT NULL DEFAULT '0',
    amount       TEXT NOT NULL DEFAULT '0'
);
CREATE INDEX journal_counterparty ON journal (counterparty, id);
CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
    BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
    BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
)sql",
};

Uint256 const kGiB = Uint256(1) << 30;

std::int64_t now_unix()
{
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

Uint256 dec(std::string const& s)
{
    return tron::parse_uint256(s).value_or(0);
}

// Finds or creates counterparty rows; statements are prepared once per flush.
class Counterparties {
public:
    explicit Counterparties(Db& db)
        : upsert_(db.prepare("INSERT INTO counterparties (address, torrent, ip, client, "
                             "first_seen, last_seen) VALUES (?,?,?,?,?,?) ON CONFLICT (address, "
                             "torrent, ip, client) DO UPDATE SET last_seen = excluded.last_seen "
                             "RETURNING id, carry"))
    {
    }

    // Returns the row id and carried remainder for a delta's counterparty.
    std::pair<std::int64_t, Uint256> get(Delta const& d, std::int64_t now)
    {
        bool anonymous = d.address.empty();
        upsert_.reset();
        upsert_.bind(1, d.address);
        upsert_.bind(2, anonymous ? std::string_view(d.torrent) : std::string_view());
        upsert_.bind(3, anonymous ? std::string_view(d.ip) : std::string_view());
        upsert_.bind(4, anonymous ? std::string_view(d.client) : std::string_view());
        upsert_.bind(5, now).bind(6, now);
        if (!upsert_.step())
            throw std::runtime_error("counterparty upsert failed: " + upsert_.error());
        std::pair<std::int64_t, Uint256> out{upsert_.column_int(0), dec(upsert_.column_text(1))};
        while (upsert_.step()) {
        }
        return out;
    }

private:
    Stmt upsert_;
};

} // namespace

Uint256 Ledger::credit(std::int64_t bytes, Uint256 const& price, Uint256& carry)
{
    Uint256 units = carry + Uint256(static_cast<std::uint64_t>(bytes)) * price;
    carry = units & (kGiB - 1); // 2^30 is a power of two: mask and shift, no division
    return units >> 30;
}

Ledger::Ledger(std::unique_ptr<Writer> writer, Db reader)
    : writer_(std::move(writer)), reader_(std::move(reader))
{
}

std::unique_ptr<Ledger> Ledger::open(std::string const& path, std::string& error)
{
    auto c = open_migrated(path, "FULL", kMigrations, error);
    if (!c)
        return nullptr;
    return std::unique_ptr<Ledger>(
        new Ledger(std::make_unique<Writer>(std::move(c->writer)), std::move(c->reader)));
}

void Ledger::flush(std::vector<Delta> deltas, Uint256 price,
                   std::function<void(std::string const&, FlushSummary const&)> done)
{
    auto summary = std::make_shared<FlushSummary>();
    writer_->submit(
        [deltas = std::move(deltas), price, summary](Db& db) -> std::string {
            auto now = now_unix();
            auto f = db.prepare("INSERT INTO flushes (time) VALUES (?)");
            f.bind(1, now);
            if (!f.run())
                return f.error();
            summary->flush = db.last_insert_id();
            auto row =
                db.prepare("INSERT INTO journal (flush, counterparty, torrent, kind, bytes_up, "
                           "bytes_down, price, amount) VALUES (?,?,?,'accrued',?,?,?,?)");
            auto carry_upd = db.prepare("UPDATE counterparties SET carry = ? WHERE id = ?");
            Counterparties parties(db);
            auto const price_text = tron::to_decimal(price);
            try {
                for (auto const& d : deltas) {
                    if (d.up < 0 || d.down < 0)
                        return "negative byte count for " + d.ip;
                    auto [id, carry] = parties.get(d, now);
                    Uint256 amount = 0;
                    Uint256 row_price = d.address.empty() ? Uint256(0) : price;
                    if (!d.address.empty()) {
                        amount = credit(d.up, row_price, carry);
                        carry_upd.reset();
                        carry_upd.bind(1, tron::to_decimal(carry)).bind(2, id);
                        if (!carry_upd.run())
                            return carry_upd.error();
                    }
                    row.reset();
                    row.bind(1, summary->flush).bind(2, id).bind(3, d.torrent).bind(4, d.up);
                    row.bind(5, d.down);
                    row.bind(6, d.address.empty() ? std::string_view("0") : price_text);
                    row.bind(7, d.address.empty() ? std::string("0") : tron::to_decimal(amount));
                    if (!row.run())
                        return row.error();
                    summary->rows++;
                    summary->bytes_up += d.up;
                    summary->bytes_down += d.down;
                    summary->credits += amount;
                }
            } catch (std::exception const& e) {
                return e.what();
            }
            return {};
        },
        [summary, done = std::move(done)](std::string const& err) {
            if (done)
                done(err, *summary);
        });
}

json Ledger::summary()
{
    std::lock_guard lock(read_mutex_);
    std::int64_t up = 0, down = 0;
    Uint256 accrued = 0;
    std::map<std::string, std::tuple<std::int64_t, std::int64_t, Uint256>> by_torrent;
    auto s = reader_.prepare("SELECT torrent, bytes_up, bytes_down, amount FROM journal WHERE kind "
                             "= 'accrued'");
    while (s.step()) {
        auto& t = by_torrent[s.column_text(0)];
        auto amount = dec(s.column_text(3));
        std::get<0>(t) += s.column_int(1);
        std::get<1>(t) += s.column_int(2);
        std::get<2>(t) += amount;
        up += s.column_int(1);
        down += s.column_int(2);
        accrued += amount;
    }
    json torrents = json::array();
    for (auto const& [id, t] : by_torrent)
        torrents.push_back({{"torrent", id},
                            {"bytes_up", std::get<0>(t)},
                            {"bytes_down", std::get<1>(t)},
                            {"credits", tron::to_decimal(std::get<2>(t))}});
    auto flushes = reader_.prepare("SELECT count(*), coalesce(max(time), 0) FROM flushes");
    flushes.step();
    return {{"bytes_up", up},
            {"bytes_down", down},
            {"credits_accrued", tron::to_decimal(accrued)},
            {"vouchered", "0"},
            {"unpaid", tron::to_decimal(accrued)},
            {"torrents", torrents},
            {"flushes", flushes.column_int(0)},
            {"last_flush_time", flushes.column_int(1)}};
}

json Ledger::peers(std::int64_t limit, std::int64_t after, std::string const& sort)
{
    std::lock_guard lock(read_mutex_);
    struct Row {
        json j;
        std::int64_t id, up, down, last_seen;
        Uint256 credits;
    };
    std::vector<Row> rows;
    std::map<std::int64_t, std::size_t> index;
    auto c = reader_.prepare("SELECT id, address, torrent, ip, client, first_seen, last_seen FROM "
                             "counterparties ORDER BY id");
    while (c.step()) {
        auto addr = c.column_text(1);
        index[c.column_int(0)] = rows.size();
        rows.push_back({{{"id", c.column_int(0)},
                         {"address", addr.empty() ? json(nullptr) : json(addr)},
                         {"anonymous", addr.empty()},
                         {"torrent", c.column_text(2)},
                         {"ip", c.column_text(3)},
                         {"client", c.column_text(4)},
                         {"first_seen", c.column_int(5)},
                         {"last_seen", c.column_int(6)}},
                        c.column_int(0),
                        0,
                        0,
                        c.column_int(6),
                        0});
    }
    auto j = reader_.prepare("SELECT counterparty, sum(bytes_up), sum(bytes_down), group_concat("
                             "amount) FROM journal WHERE kind = 'accrued' GROUP BY counterparty");
    while (j.step()) {
        auto& r = rows[index.at(j.column_int(0))];
        r.up = j.column_int(1);
        r.down = j.column_int(2);
        auto amounts = j.column_text(3);
        for (std::size_t pos = 0; pos < amounts.size();) {
            auto comma = amounts.find(',', pos);
            r.credits += dec(amounts.substr(pos, comma - pos));
            pos = comma == std::string::npos ? amounts.size() : comma + 1;
        }
    }
    if (sort != "id")
        std::stable_sort(rows.begin(), rows.end(), [&](Row const& a, Row const& b) {
            if (sort == "bytes_down")
                return a.down > b.down;
            if (sort == "credits")
                return a.credits > b.credits;
            if (sort == "last_seen")
                return a.last_seen > b.last_seen;
            return a.up > b.up;
        });
    json out = json::array();
    bool started = after <= 0;
    json next = nullptr;
    for (auto& r : rows) {
        if (!started) {
            started = r.id == after;
            continue;
        }
        if (limit > 0 && static_cast<std::int64_t>(out.size()) == limit) {
            next = out.back()["id"];
            break;
        }
        r.j["bytes_up"] = r.up;
        r.j["bytes_down"] = r.down;
        r.j["credits"] = tron::to_decimal(r.credits);
        r.j["unpaid"] = tron::to_decimal(r.credits);
        r.j["latest_voucher"] = nullptr;
        out.push_back(std::move(r.j));
    }
    return {{"peers", out}, {"next", next}};
}

json Ledger::journal(std::int64_t limit, std::int64_t after)
{
    std::lock_guard lock(read_mutex_);
    auto s = reader_.prepare(
        "SELECT j.id, f.time, j.flush, j.counterparty, c.address, j.torrent, j.kind, j.bytes_up, "
        "j.bytes_down, j.price, j.amount FROM journal j JOIN flushes f ON f.id = j.flush JOIN "
        "counterparties c ON c.id = j.counterparty WHERE j.id > ? ORDER BY j.id LIMIT ?");
    s.bind(1, after).bind(2, limit + 1);
    json out = json::array();
    json next = nullptr;
    while (s.step()) {
        if (static_cast<std::int64_t>(out.size()) == limit) {
            next = out.back()["id"];
            break;
        }
        auto addr = s.column_text(4);
        out.push_back({{"id", s.column_int(0)},
                       {"time", s.column_int(1)},
                       {"flush", s.column_int(2)},
                       {"counterparty", s.column_int(3)},
                       {"address", addr.empty() ? json(nullptr) : json(addr)},
                       {"torrent", s.column_text(5)},
                       {"kind", s.column_text(6)},
                       {"bytes_up", s.column_int(7)},
                       {"bytes_down", s.column_int(8)},
                       {"price_per_gib", s.column_text(9)},
                       {"amount", s.column_text(10)}});
    }
    return {{"entries", out}, {"next", next}};
}

json Ledger::verify()
{
    std::lock_guard lock(read_mutex_);
    json violations = json::array();
    std::map<std::int64_t, std::pair<std::string, Uint256>> parties; // id -> address, carry
    auto c = reader_.prepare("SELECT id, address, carry FROM counterparties");
    while (c.step()) {
        auto carry = tron::parse_uint256(c.column_text(2));
        if (!carry || *carry >= kGiB)
            violations.push_back("counterparty " + std::to_string(c.column_int(0)) +
                                 ": stored carry is not a remainder below 2^30");
        parties[c.column_int(0)] = {c.column_text(1), carry.value_or(0)};
    }
    std::map<std::int64_t, Uint256> replayed;
    std::int64_t rows = 0;
    auto j = reader_.prepare("SELECT id, counterparty, bytes_up, price, amount FROM journal WHERE "
                             "kind = 'accrued' ORDER BY id");
    while (j.step()) {
        ++rows;
        auto id = j.column_int(0);
        auto who = j.column_int(1);
        auto price = tron::parse_uint256(j.column_text(3));
        auto amount = tron::parse_uint256(j.column_text(4));
        auto where = "journal " + std::to_string(id);
        if (!parties.count(who)) {
            violations.push_back(where + ": unknown counterparty " + std::to_string(who));
            continue;
        }
        if (!price || !amount) {
            violations.push_back(where + ": amount or price is not a uint256");
            continue;
        }
        if (parties[who].first.empty()) {
            if (*amount != 0 || *price != 0)
                violations.push_back(where + ": an anonymous counterparty was credited");
            continue;
        }
        auto expected = credit(j.column_int(2), *price, replayed[who]);
        if (expected != *amount)
            violations.push_back(where + ": amount " + tron::to_decimal(*amount) +
                                 " but bytes x "
                                 "price / 2^30 gives " +
                                 tron::to_decimal(expected));
    }
    for (auto const& [who, p] : parties)
        if (!p.first.empty() && replayed[who] != p.second)
            violations.push_back("counterparty " + std::to_string(who) +
                                 ": carried remainder does not match the journal");
    return {{"ok", violations.empty()},
            {"violations", violations},
            {"journal_rows", rows},
            {"counterparties", parties.size()}};
}

} // namespace seedbox::ledger
