// The ledger's read views for RPC: the summary, the per-counterparty table and the journal, each
// on the read connection.
#include "ledger/ledger.h"

#include "ledger/ledger_internal.h"

#include <algorithm>
#include <map>

namespace seedbox::ledger {

using json = nlohmann::json;
using detail::page_query;
using tron::Uint256;

Summary Ledger::summary()
{
    std::lock_guard lock(read_mutex_);
    Summary out;
    std::map<std::string, TorrentTotals> by_torrent;
    std::map<std::int64_t, std::pair<Uint256, Uint256>> by_party; // accrued, vouchered
    auto s = reader_.prepare("SELECT torrent, bytes_up, bytes_down, amount, kind, counterparty "
                             "FROM journal WHERE kind IN ('accrued', 'vouchered')");
    while (s.step()) {
        auto& t = by_torrent[s.column_text(0)];
        auto amount = stored_amount(s.column_text(3));
        auto& party = by_party[s.column_int(5)];
        if (s.column_text(4) == "vouchered") {
            t.vouchered += amount;
            out.vouchered += amount;
            party.second += amount;
            continue;
        }
        t.bytes_up += s.column_int(1);
        t.bytes_down += s.column_int(2);
        t.credits += amount;
        out.bytes_up += s.column_int(1);
        out.bytes_down += s.column_int(2);
        out.credits_accrued += amount;
        party.first += amount;
    }
    for (auto const& [id, p] : by_party)
        if (p.first > p.second)
            out.unpaid += p.first - p.second;
    auto issued = reader_.prepare("SELECT cumulative FROM vouchers_issued");
    while (issued.step())
        out.paid_out += stored_amount(issued.column_text(0));
    for (auto& [id, t] : by_torrent) {
        t.torrent = id;
        out.torrents.push_back(std::move(t));
    }
    auto flushes = reader_.prepare(
        "SELECT count(*), coalesce(max(time), 0) FROM flushes WHERE kind = 'accounting'");
    flushes.step();
    out.flushes = flushes.column_int(0);
    out.last_flush_time = flushes.column_int(1);
    return out;
}

namespace {

// One counterparty in peers(): its JSON so far and the totals the table sorts by.
struct PeerRow {
    json j;
    std::int64_t id, up, down, last_seen;
    Uint256 credits;
};

// Every counterparty in id order, with the bytes, credits and latest flush time of its accrued
// journal rows.
std::vector<PeerRow> peer_rows(Db& db)
{
    std::vector<PeerRow> rows;
    std::map<std::int64_t, std::size_t> index;
    auto c = db.prepare("SELECT id, address, torrent, ip, client, first_seen, last_seen FROM "
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
    auto j = db.prepare("SELECT j.counterparty, sum(j.bytes_up), sum(j.bytes_down), "
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
    return rows;
}

// The vouchers peers() shows per address, both directions.
struct PeerVouchers {
    struct Latest {
        Uint256 cumulative;
        std::int64_t time;
        std::string bid;
    };
    std::map<std::string, Latest> latest;        // payer -> its newest voucher to us
    std::map<std::string, std::string> our_bids; // provider -> the bid of our newest voucher
};

PeerVouchers peer_vouchers(Db& db)
{
    PeerVouchers out;
    auto v = db.prepare("SELECT payer, cumulative, time, bid FROM vouchers_received");
    while (v.step())
        out.latest[v.column_text(0)] = {stored_amount(v.column_text(1)), v.column_int(2),
                                        v.column_text(3)};
    auto ib = db.prepare("SELECT beneficiary, bid FROM vouchers_issued");
    while (ib.step())
        out.our_bids[ib.column_text(0)] = ib.column_text(1);
    return out;
}

// Orders rows by `sort`, largest first ("id" keeps id order; anything unknown means bytes_up).
void sort_peers(std::vector<PeerRow>& rows, std::string const& sort)
{
    if (sort != "id")
        std::stable_sort(rows.begin(), rows.end(), [&](PeerRow const& a, PeerRow const& b) {
            if (sort == "bytes_down")
                return a.down > b.down;
            if (sort == "credits")
                return a.credits > b.credits;
            if (sort == "last_seen")
                return a.last_seen > b.last_seen;
            return a.up > b.up;
        });
}

} // namespace

json Ledger::peers(std::int64_t limit, std::int64_t after, std::string const& sort)
{
    std::lock_guard lock(read_mutex_);
    auto rows = peer_rows(reader_);
    auto [latest, our_bids] = peer_vouchers(reader_);
    auto bid_json = [](std::string const& b) { return b.empty() ? json(nullptr) : json(b); };
    sort_peers(rows, sort);
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

} // namespace seedbox::ledger
