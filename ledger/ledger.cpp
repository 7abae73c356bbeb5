#include "ledger/ledger.h"

#include "ledger/tron/voucher.h"

#include <chrono>
#include <map>
#include <set>

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
    R"sql(
ALTER TABLE flushes ADD COLUMN kind TEXT NOT NULL DEFAULT 'accounting';
CREATE TABLE vouchers_received (
    payer       TEXT PRIMARY KEY,
    beneficiary TEXT NOT NULL,
    chain_id    INTEGER NOT NULL,
    hub         TEXT NOT NULL,
    cumulative  TEXT NOT NULL,
    signature   TEXT NOT NULL,
    torrent     TEXT NOT NULL,
    time        INTEGER NOT NULL,
    count       INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE vouchers_issued (
    beneficiary TEXT PRIMARY KEY,
    payer       TEXT NOT NULL,
    chain_id    INTEGER NOT NULL,
    hub         TEXT NOT NULL,
    cumulative  TEXT NOT NULL,
    signature   TEXT NOT NULL,
    torrent     TEXT NOT NULL,
    time        INTEGER NOT NULL,
    carry       TEXT NOT NULL DEFAULT '0',
    bytes       INTEGER NOT NULL DEFAULT 0,
    acked       TEXT NOT NULL DEFAULT '0',
    count       INTEGER NOT NULL DEFAULT 1
);
)sql",
    // The carried remainder moves into each accrued journal row, so a flush writes one row per
    // delta; counterparties.carry stays as the starting point for rows written before this.
    R"sql(
ALTER TABLE journal ADD COLUMN carry TEXT;
)sql",
    // Settlement (design.md §7): a batch, its claims and its signed bytes are one row set, written
    // in one transaction before the first broadcast. `paid` mirrors the hub's paid[payer][us] as
    // last reconciled from the chain; it only grows.
    R"sql(
CREATE TABLE settlement_batches (
    id           INTEGER PRIMARY KEY,
    state        TEXT NOT NULL CHECK (state IN ('built', 'broadcast', 'included', 'final',
                                                'reverted', 'expired')),
    mode         TEXT NOT NULL,
    txid         TEXT NOT NULL UNIQUE,
    raw_data_hex TEXT NOT NULL,
    signature    TEXT NOT NULL,
    signed_hex   TEXT NOT NULL,
    owner        TEXT NOT NULL,
    hub          TEXT NOT NULL,
    chain_id     INTEGER NOT NULL,
    ref_number   INTEGER NOT NULL,
    ref_hash     TEXT NOT NULL,
    expiration   INTEGER NOT NULL,
    fee_limit    INTEGER NOT NULL,
    energy_estimate INTEGER NOT NULL DEFAULT 0,
    created      INTEGER NOT NULL,
    updated      INTEGER NOT NULL,
    broadcasts   INTEGER NOT NULL DEFAULT 0,
    block        INTEGER,
    energy       INTEGER,
    fee          INTEGER,
    error        TEXT NOT NULL DEFAULT ''
);
CREATE TABLE settlement_claims (
    batch      INTEGER NOT NULL REFERENCES settlement_batches(id),
    position   INTEGER NOT NULL,
    payer      TEXT NOT NULL,
    cumulative TEXT NOT NULL,
    signature  TEXT NOT NULL,
    previous   TEXT NOT NULL,
    outcome    TEXT NOT NULL DEFAULT 'pending',
    paid       TEXT NOT NULL DEFAULT '0',
    PRIMARY KEY (batch, position)
);
CREATE INDEX settlement_claims_payer ON settlement_claims (payer);
CREATE TABLE settlement_paid (
    payer   TEXT PRIMARY KEY,
    paid    TEXT NOT NULL,
    updated INTEGER NOT NULL
);
)sql",
    // Bids (daemon/btt_pay/PROTOCOL.md): the per-GiB rate each voucher's bytes were priced at,
    // '' for vouchers kept before bids existed.
    R"sql(
ALTER TABLE vouchers_received ADD COLUMN bid TEXT NOT NULL DEFAULT '';
ALTER TABLE vouchers_issued ADD COLUMN bid TEXT NOT NULL DEFAULT '';
)sql",
};

Uint256 const kGiB = Uint256(1) << 30;

// Runs a query whose two parameters are (after, limit + 1). Returns the rows and, when more
// follow, the `key` field of the last row returned (the next page's `after`).
template <class After, class RowFn>
std::pair<json, json> page_query(Db& db, std::string const& sql, After const& after,
                                 std::int64_t limit, char const* key, RowFn&& row)
{
    auto st = db.prepare(sql);
    st.bind(1, after).bind(2, limit + 1);
    json rows = json::array();
    json next = nullptr;
    while (st.step()) {
        if (static_cast<std::int64_t>(rows.size()) == limit) {
            next = rows.back()[key];
            break;
        }
        rows.push_back(row(st));
    }
    return {rows, next};
}

// Finds or creates counterparty rows. Known ones come from `cache` (the writer thread's memory of
// ids and carried remainders), so a steady-state flush costs one INSERT per delta.
class Counterparties {
public:
    Counterparties(Db& db, PartyCache& cache)
        : cache_(cache),
          insert_(db.prepare("INSERT INTO counterparties (address, torrent, ip, client, "
                             "first_seen, last_seen) VALUES (?,?,?,?,?,?) ON CONFLICT DO NOTHING "
                             "RETURNING id")),
          find_(db.prepare("SELECT id, carry FROM counterparties WHERE address = ? AND torrent = "
                           "? AND ip = ? AND client = ?")),
          last_carry_(db.prepare("SELECT carry FROM journal WHERE counterparty = ? AND carry IS "
                                 "NOT NULL ORDER BY id DESC LIMIT 1"))
    {
    }

    // The cache entry (row id and carried remainder) for a delta's counterparty.
    Party& get(Delta const& d, std::int64_t now)
    {
        bool anonymous = d.address.empty();
        std::string key =
            anonymous ? '\x01' + d.torrent + '\0' + d.ip + '\0' + d.client : d.address;
        if (auto it = cache_.find(key); it != cache_.end())
            return it->second;
        auto bind = [&](Stmt& st) {
            st.reset();
            st.bind(1, d.address);
            st.bind(2, anonymous ? std::string_view(d.torrent) : std::string_view());
            st.bind(3, anonymous ? std::string_view(d.ip) : std::string_view());
            st.bind(4, anonymous ? std::string_view(d.client) : std::string_view());
        };
        bind(insert_);
        insert_.bind(5, now).bind(6, now);
        Party p;
        if (insert_.step()) { // a new counterparty: nothing carried yet
            p.id = insert_.column_int(0);
            while (insert_.step()) {
            }
        } else {
            if (!insert_.error().empty())
                throw std::runtime_error("counterparty insert failed: " + insert_.error());
            bind(find_);
            if (!find_.step())
                throw std::runtime_error("counterparty lookup failed: " + find_.error());
            p.id = find_.column_int(0);
            p.carry = stored_amount(find_.column_text(1));
            last_carry_.reset();
            last_carry_.bind(1, p.id);
            if (last_carry_.step())
                p.carry = stored_amount(last_carry_.column_text(0));
        }
        return cache_.emplace(std::move(key), p).first->second;
    }

private:
    PartyCache& cache_;
    Stmt insert_;
    Stmt find_;
    Stmt last_carry_;
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

Uint256 stored_amount(std::string const& decimal)
{
    return tron::parse_uint256(decimal).value_or(0);
}

std::int64_t unix_seconds()
{
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
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
        [deltas = std::move(deltas), price, summary, cache = cache_](Db& db) -> std::string {
            auto now = unix_seconds();
            auto f = db.prepare("INSERT INTO flushes (time) VALUES (?)");
            f.bind(1, now);
            if (!f.run())
                return f.error();
            summary->flush = db.last_insert_id();
            auto row = db.prepare("INSERT INTO journal (flush, counterparty, torrent, kind, "
                                  "bytes_up, bytes_down, price, amount, carry) VALUES "
                                  "(?,?,?,'accrued',?,?,?,?,?)");
            Counterparties parties(db, *cache);
            auto const price_text = tron::to_decimal(price);
            try {
                for (auto const& d : deltas) {
                    if (d.up < 0 || d.down < 0)
                        throw std::runtime_error("negative byte count for " + d.ip);
                    auto& party = parties.get(d, now);
                    row.reset();
                    row.bind(1, summary->flush).bind(2, party.id).bind(3, d.torrent);
                    row.bind(4, d.up).bind(5, d.down);
                    Uint256 amount = 0;
                    if (d.address.empty()) {
                        row.bind(6, std::string_view("0")).bind(7, std::string_view("0"));
                        row.bind_null(8);
                    } else {
                        auto const& p = d.price ? *d.price : price;
                        amount = credit(d.up, p, party.carry);
                        row.bind(6, d.price ? tron::to_decimal(p) : price_text);
                        row.bind(7, tron::to_decimal(amount));
                        row.bind(8, tron::to_decimal(party.carry));
                    }
                    if (!row.run())
                        throw std::runtime_error(row.error());
                    summary->rows++;
                    summary->bytes_up += d.up;
                    summary->bytes_down += d.down;
                    summary->credits += amount;
                }
            } catch (std::exception const& e) {
                cache->clear(); // rolled back: the cached remainders ran ahead of the file
                return e.what();
            }
            return {};
        },
        [summary, cache = cache_, done = std::move(done)](std::string const& err) {
            if (!err.empty())
                cache->clear(); // the commit may have failed as a whole
            if (done)
                done(err, *summary);
        });
}

json Ledger::summary()
{
    std::lock_guard lock(read_mutex_);
    std::int64_t up = 0, down = 0;
    Uint256 accrued = 0, vouchered = 0, unpaid = 0, paid_out = 0;
    struct PerTorrent {
        std::int64_t up = 0, down = 0;
        Uint256 credits = 0, vouchered = 0;
    };
    std::map<std::string, PerTorrent> by_torrent;
    std::map<std::int64_t, std::pair<Uint256, Uint256>> by_party; // accrued, vouchered
    auto s = reader_.prepare("SELECT torrent, bytes_up, bytes_down, amount, kind, counterparty "
                             "FROM journal WHERE kind IN ('accrued', 'vouchered')");
    while (s.step()) {
        auto& t = by_torrent[s.column_text(0)];
        auto amount = stored_amount(s.column_text(3));
        auto& party = by_party[s.column_int(5)];
        if (s.column_text(4) == "vouchered") {
            t.vouchered += amount;
            vouchered += amount;
            party.second += amount;
            continue;
        }
        t.up += s.column_int(1);
        t.down += s.column_int(2);
        t.credits += amount;
        up += s.column_int(1);
        down += s.column_int(2);
        accrued += amount;
        party.first += amount;
    }
    for (auto const& [id, p] : by_party)
        if (p.first > p.second)
            unpaid += p.first - p.second;
    auto issued = reader_.prepare("SELECT cumulative FROM vouchers_issued");
    while (issued.step())
        paid_out += stored_amount(issued.column_text(0));
    json torrents = json::array();
    for (auto const& [id, t] : by_torrent)
        torrents.push_back({{"torrent", id},
                            {"bytes_up", t.up},
                            {"bytes_down", t.down},
                            {"credits", tron::to_decimal(t.credits)},
                            {"vouchered", tron::to_decimal(t.vouchered)}});
    auto flushes = reader_.prepare(
        "SELECT count(*), coalesce(max(time), 0) FROM flushes WHERE kind = 'accounting'");
    flushes.step();
    return {{"bytes_up", up},
            {"bytes_down", down},
            {"credits_accrued", tron::to_decimal(accrued)},
            {"vouchered", tron::to_decimal(vouchered)},
            {"unpaid", tron::to_decimal(unpaid)},
            {"paid_out", tron::to_decimal(paid_out)},
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
    // last_seen is the time of the counterparty's latest flush.
    auto j = reader_.prepare("SELECT j.counterparty, sum(j.bytes_up), sum(j.bytes_down), "
                             "group_concat(j.amount), max(f.time) FROM journal j JOIN flushes f ON "
                             "f.id = j.flush WHERE j.kind = 'accrued' GROUP BY j.counterparty");
    while (j.step()) {
        auto& r = rows[index.at(j.column_int(0))];
        r.up = j.column_int(1);
        r.down = j.column_int(2);
        r.last_seen = std::max(r.last_seen, j.column_int(4));
        r.j["last_seen"] = r.last_seen;
        auto amounts = j.column_text(3);
        for (std::size_t pos = 0; pos < amounts.size();) {
            auto comma = amounts.find(',', pos);
            r.credits += stored_amount(amounts.substr(pos, comma - pos));
            pos = comma == std::string::npos ? amounts.size() : comma + 1;
        }
    }
    struct Latest {
        Uint256 cumulative;
        std::int64_t time;
        std::string bid;
    };
    std::map<std::string, Latest> latest; // payer -> its newest voucher to us
    auto v = reader_.prepare("SELECT payer, cumulative, time, bid FROM vouchers_received");
    while (v.step())
        latest[v.column_text(0)] = {stored_amount(v.column_text(1)), v.column_int(2),
                                    v.column_text(3)};
    std::map<std::string, std::string> our_bids; // provider -> the bid of our newest voucher
    auto ib = reader_.prepare("SELECT beneficiary, bid FROM vouchers_issued");
    while (ib.step())
        our_bids[ib.column_text(0)] = ib.column_text(1);
    auto bid_json = [](std::string const& b) { return b.empty() ? json(nullptr) : json(b); };
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
        auto addr = r.j["address"].is_string() ? r.j["address"].get<std::string>() : "";
        auto it = addr.empty() ? latest.end() : latest.find(addr);
        Uint256 vouchered = it == latest.end() ? Uint256(0) : it->second.cumulative;
        r.j["vouchered"] = tron::to_decimal(vouchered);
        r.j["unpaid"] = tron::to_decimal(r.credits > vouchered ? r.credits - vouchered : 0);
        r.j["latest_voucher"] = it == latest.end()
                                    ? json(nullptr)
                                    : json{{"cumulative", tron::to_decimal(it->second.cumulative)},
                                           {"time", it->second.time}};
        r.j["bid_per_gib"] = it == latest.end() ? json(nullptr) : bid_json(it->second.bid);
        auto ours = addr.empty() ? our_bids.end() : our_bids.find(addr);
        r.j["our_bid_per_gib"] = ours == our_bids.end() ? json(nullptr) : bid_json(ours->second);
        out.push_back(std::move(r.j));
    }
    return {{"peers", out}, {"next", next}};
}

json Ledger::journal(std::int64_t limit, std::int64_t after)
{
    std::lock_guard lock(read_mutex_);
    auto [entries, next] = page_query(
        reader_,
        "SELECT j.id, f.time, j.flush, j.counterparty, c.address, j.torrent, j.kind, j.bytes_up, "
        "j.bytes_down, j.price, j.amount FROM journal j JOIN flushes f ON f.id = j.flush JOIN "
        "counterparties c ON c.id = j.counterparty WHERE j.id > ? ORDER BY j.id LIMIT ?",
        after, limit, "id", [](Stmt& s) {
            auto addr = s.column_text(4);
            return json{{"id", s.column_int(0)},
                        {"time", s.column_int(1)},
                        {"flush", s.column_int(2)},
                        {"counterparty", s.column_int(3)},
                        {"address", addr.empty() ? json(nullptr) : json(addr)},
                        {"torrent", s.column_text(5)},
                        {"kind", s.column_text(6)},
                        {"bytes_up", s.column_int(7)},
                        {"bytes_down", s.column_int(8)},
                        {"price_per_gib", s.column_text(9)},
                        {"amount", s.column_text(10)}};
        });
    return {{"entries", entries}, {"next", next}};
}

namespace {

void bind_voucher(Stmt& st, Voucher const& v, std::string const& other)
{
    st.bind(1, other).bind(2, v.chain_id).bind(3, v.hub).bind(4, tron::to_decimal(v.cumulative));
    st.bind(5, v.signature).bind(6, v.torrent).bind(7, v.time);
    st.bind(8, v.bid == 0 ? std::string() : tron::to_decimal(v.bid));
}

// Columns 0-8 of every voucher query: payer, beneficiary, chain_id, hub, cumulative, signature,
// torrent, time, bid.
constexpr char const* kVoucherColumns =
    "payer, beneficiary, chain_id, hub, cumulative, signature, torrent, time, bid";

Voucher voucher_row(Stmt& st)
{
    return {st.column_text(0),
            st.column_text(1),
            st.column_int(2),
            st.column_text(3),
            stored_amount(st.column_text(4)),
            st.column_text(5),
            st.column_text(6),
            st.column_int(7),
            stored_amount(st.column_text(8))};
}

json voucher_json(Voucher const& v)
{
    return {{"payer", v.payer},
            {"beneficiary", v.beneficiary},
            {"chain_id", v.chain_id},
            {"hub", v.hub},
            {"cumulative", tron::to_decimal(v.cumulative)},
            {"signature", v.signature},
            {"torrent", v.torrent},
            {"time", v.time},
            {"bid_per_gib", v.bid == 0 ? nlohmann::json(nullptr) : json(tron::to_decimal(v.bid))}};
}

} // namespace

void Ledger::keep_voucher(Voucher v, std::function<void(std::string const&, Uint256 const&)> done)
{
    auto increase = std::make_shared<Uint256>(0);
    writer_->submit(
        [v = std::move(v), increase, cache = cache_](Db& db) mutable -> std::string {
            auto now = v.time = v.time ? v.time : unix_seconds();
            auto cur = db.prepare("SELECT cumulative FROM vouchers_received WHERE payer = ?");
            cur.bind(1, v.payer);
            Uint256 kept = cur.step() ? stored_amount(cur.column_text(0)) : Uint256(0);
            if (v.cumulative <= kept)
                return "cumulative " + tron::to_decimal(v.cumulative) +
                       " is not above the voucher kept (" + tron::to_decimal(kept) + ")";
            auto up = db.prepare(
                "INSERT INTO vouchers_received (beneficiary, chain_id, hub, cumulative, "
                "signature, torrent, time, bid, payer) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT "
                "(payer) DO UPDATE SET beneficiary = excluded.beneficiary, chain_id = "
                "excluded.chain_id, hub = excluded.hub, cumulative = excluded.cumulative, "
                "signature = excluded.signature, torrent = excluded.torrent, time = "
                "excluded.time, bid = excluded.bid, count = count + 1");
            bind_voucher(up, v, v.beneficiary);
            up.bind(9, v.payer);
            if (!up.run())
                return up.error();
            auto f = db.prepare("INSERT INTO flushes (time, kind) VALUES (?, 'voucher')");
            f.bind(1, now);
            if (!f.run())
                return f.error();
            auto flush = db.last_insert_id();
            try {
                Counterparties parties(db, *cache);
                Delta who;
                who.address = v.payer;
                auto id = parties.get(who, now).id;
                *increase = v.cumulative - kept;
                auto row = db.prepare("INSERT INTO journal (flush, counterparty, torrent, kind, "
                                      "amount, price) VALUES (?,?,?,'vouchered',?,?)");
                row.bind(1, flush).bind(2, id).bind(3, v.torrent);
                row.bind(4, tron::to_decimal(*increase)).bind(5, tron::to_decimal(v.bid));
                if (!row.run())
                    throw std::runtime_error(row.error());
            } catch (std::exception const& e) {
                cache->clear(); // a counterparty row it cached was rolled back
                return e.what();
            }
            return {};
        },
        [increase, done = std::move(done)](std::string const& err) {
            if (done)
                done(err, *increase);
        });
}

void Ledger::save_issued(Issued issued, std::function<void(std::string const&)> done)
{
    writer_->submit(
        [i = std::move(issued)](Db& db) mutable -> std::string {
            if (!i.voucher.time)
                i.voucher.time = unix_seconds();
            auto const& v = i.voucher;
            auto cur = db.prepare("SELECT cumulative FROM vouchers_issued WHERE beneficiary = ?");
            cur.bind(1, v.beneficiary);
            if (cur.step() && stored_amount(cur.column_text(0)) >= v.cumulative)
                return "cumulative " + tron::to_decimal(v.cumulative) +
                       " is not above the last voucher issued";
            auto up = db.prepare(
                "INSERT INTO vouchers_issued (payer, chain_id, hub, cumulative, signature, "
                "torrent, time, bid, carry, bytes, beneficiary) VALUES (?,?,?,?,?,?,?,?,?,?,?) ON "
                "CONFLICT (beneficiary) DO UPDATE SET payer = excluded.payer, chain_id = "
                "excluded.chain_id, hub = excluded.hub, cumulative = excluded.cumulative, "
                "signature = excluded.signature, torrent = excluded.torrent, time = "
                "excluded.time, bid = excluded.bid, carry = excluded.carry, bytes = "
                "excluded.bytes, count = count + 1");
            bind_voucher(up, v, v.payer);
            up.bind(9, tron::to_decimal(i.carry)).bind(10, i.bytes).bind(11, v.beneficiary);
            return up.run() ? std::string() : up.error();
        },
        std::move(done));
}

void Ledger::save_ack(std::string const& beneficiary, Uint256 const& cumulative)
{
    writer_->submit([beneficiary, cumulative](Db& db) -> std::string {
        auto cur = db.prepare("SELECT acked FROM vouchers_issued WHERE beneficiary = ?");
        cur.bind(1, beneficiary);
        if (!cur.step() || stored_amount(cur.column_text(0)) >= cumulative)
            return {};
        auto up = db.prepare("UPDATE vouchers_issued SET acked = ? WHERE beneficiary = ?");
        up.bind(1, tron::to_decimal(cumulative)).bind(2, beneficiary);
        return up.run() ? std::string() : up.error();
    });
}

Balances Ledger::balances(std::int64_t free_window)
{
    std::lock_guard lock(read_mutex_);
    Balances b;
    auto f = reader_.prepare(
        "SELECT c.torrent, c.ip, SUM(j.bytes_up), MIN(f.time) FROM journal j "
        "JOIN counterparties c ON c.id = j.counterparty JOIN flushes f ON f.id = j.flush "
        "WHERE j.kind = 'accrued' AND c.address = '' AND j.bytes_up > 0 AND f.time >= ? "
        "GROUP BY c.torrent, c.ip");
    f.bind(1, unix_seconds() - free_window);
    while (f.step())
        b.free_use[{f.column_text(0), f.column_text(1)}] = {f.column_int(2), f.column_int(3)};
    auto a = reader_.prepare("SELECT c.address, j.amount FROM journal j JOIN counterparties c ON "
                             "c.id = j.counterparty WHERE j.kind = 'accrued' AND c.address != ''");
    while (a.step())
        b.accrued[a.column_text(0)] += stored_amount(a.column_text(1));
    auto k = reader_.prepare("SELECT payer, cumulative FROM vouchers_received");
    while (k.step())
        b.kept[k.column_text(0)] = stored_amount(k.column_text(1));
    auto i = reader_.prepare(std::string("SELECT ") + kVoucherColumns +
                             ", carry, bytes, acked FROM vouchers_issued");
    while (i.step()) {
        Issued is;
        is.voucher = voucher_row(i);
        is.carry = stored_amount(i.column_text(9));
        is.bytes = i.column_int(10);
        is.acked = stored_amount(i.column_text(11));
        b.issued[is.voucher.beneficiary] = std::move(is);
    }
    return b;
}

json Ledger::vouchers(std::string const& direction, std::int64_t limit, std::string const& after)
{
    std::lock_guard lock(read_mutex_);
    json out = json::object();
    if (direction.empty() || direction == "received") {
        auto [rows, next] =
            page_query(reader_,
                       std::string("SELECT ") + kVoucherColumns +
                           ", count FROM vouchers_received WHERE payer > ? ORDER BY payer LIMIT ?",
                       after, limit, "payer", [](Stmt& st) {
                           auto j = voucher_json(voucher_row(st));
                           j["count"] = st.column_int(9);
                           return j;
                       });
        out["received"] = rows;
        out["next_received"] = next;
    }
    if (direction.empty() || direction == "issued") {
        auto [rows, next] = page_query(
            reader_,
            std::string("SELECT ") + kVoucherColumns +
                ", count, bytes, acked FROM vouchers_issued WHERE beneficiary > ? ORDER BY "
                "beneficiary LIMIT ?",
            after, limit, "beneficiary", [](Stmt& st) {
                auto j = voucher_json(voucher_row(st));
                j["count"] = st.column_int(9);
                j["bytes"] = st.column_int(10);
                j["acked"] = st.column_text(11);
                return j;
            });
        out["issued"] = rows;
        out["next_issued"] = next;
    }
    return out;
}

namespace {

// A stored voucher must recover to its payer under its own domain and beneficiary.
bool voucher_verifies(Voucher const& v)
{
    auto payer = tron::Address::parse(v.payer);
    auto beneficiary = tron::Address::parse(v.beneficiary);
    auto hub = tron::Address::parse(v.hub);
    auto sig = tron::from_hex(v.signature);
    if (!payer || !beneficiary || !hub || !sig)
        return false;
    tron::VoucherSigner signer({v.chain_id, *hub});
    return signer.verify(*payer, *beneficiary, v.cumulative, *sig, 0) ==
           tron::VoucherSigner::Check::ok;
}

void check_vouchers(Db& reader, json& violations)
{
    // Provider side: the 'vouchered' journal rows of a payer add up to the voucher kept.
    std::map<std::string, Uint256> journaled;
    auto j = reader.prepare("SELECT j.id, c.address, j.amount FROM journal j JOIN counterparties c "
                            "ON c.id = j.counterparty WHERE j.kind = 'vouchered'");
    while (j.step()) {
        auto amount = tron::parse_uint256(j.column_text(2));
        if (!amount || *amount == 0 || j.column_text(1).empty())
            violations.push_back("journal " + std::to_string(j.column_int(0)) +
                                 ": a vouchered row must name a payer and a positive amount");
        journaled[j.column_text(1)] += amount.value_or(0);
    }
    auto r = reader.prepare(std::string("SELECT ") + kVoucherColumns + " FROM vouchers_received");
    while (r.step()) {
        auto v = voucher_row(r);
        if (!voucher_verifies(v))
            violations.push_back("voucher from " + v.payer + " does not verify");
        if (journaled[v.payer] != v.cumulative)
            violations.push_back("voucher from " + v.payer + ": kept cumulative " +
                                 tron::to_decimal(v.cumulative) + " but the journal adds up to " +
                                 tron::to_decimal(journaled[v.payer]));
        journaled.erase(v.payer);
    }
    for (auto const& [payer, sum] : journaled)
        violations.push_back("journal has vouchered rows for " + payer + " but no voucher is kept");
    // Payer side: every voucher we issued verifies.
    auto i = reader.prepare(std::string("SELECT ") + kVoucherColumns + " FROM vouchers_issued");
    while (i.step()) {
        auto v = voucher_row(i);
        if (!voucher_verifies(v))
            violations.push_back("voucher issued to " + v.beneficiary + " does not verify");
    }
}

} // namespace

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
    std::set<std::int64_t> row_carry; // counterparties whose rows record their remainder
    std::int64_t rows = 0;
    auto j = reader_.prepare("SELECT id, counterparty, bytes_up, price, amount, carry FROM journal "
                             "WHERE kind = 'accrued' ORDER BY id");
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
                                 " but bytes x price / 2^30 gives " + tron::to_decimal(expected));
        if (!j.column_null(5)) {
            row_carry.insert(who);
            if (tron::parse_uint256(j.column_text(5)) != replayed[who])
                violations.push_back(where + ": carried remainder " + j.column_text(5) +
                                     " but the replay gives " + tron::to_decimal(replayed[who]));
        }
    }
    for (auto const& [who, p] : parties)
        if (!p.first.empty() && !row_carry.count(who) && replayed[who] != p.second)
            violations.push_back("counterparty " + std::to_string(who) +
                                 ": carried remainder does not match the journal");
    check_vouchers(reader_, violations);
    return {{"ok", violations.empty()},
            {"violations", violations},
            {"journal_rows", rows},
            {"counterparties", parties.size()}};
}

} // namespace seedbox::ledger
