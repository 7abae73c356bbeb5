// The ledger's read views for RPC: the summary, the per-counterparty table and the journal, each
// on the read connection.
#include "ledger/ledger.h"

#include "ledger/ledger_internal.h"

#include <algorithm>
#include <map>

namespace seedbox::ledger {

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

// Every counterparty in id order, with the bytes, credits and latest flush time of its accrued
// journal rows.
std::vector<PeerView> peer_rows(Db& db)
{
    std::vector<PeerView> rows;
    std::map<std::int64_t, std::size_t> index;
    auto c = db.prepare("SELECT id, address, torrent, ip, client, first_seen, last_seen FROM "
                        "counterparties ORDER BY id");
    while (c.step()) {
        index[c.column_int(0)] = rows.size();
        PeerView v;
        v.id = c.column_int(0);
        v.address = c.column_text(1);
        v.torrent = c.column_text(2);
        v.ip = c.column_text(3);
        v.client = c.column_text(4);
        v.first_seen = c.column_int(5);
        v.last_seen = c.column_int(6);
        rows.push_back(std::move(v));
    }
    // last_seen is the time of the counterparty's latest flush.
    auto j = db.prepare("SELECT j.counterparty, sum(j.bytes_up), sum(j.bytes_down), "
                        "group_concat(j.amount), max(f.time) FROM journal j JOIN flushes f ON "
                        "f.id = j.flush WHERE j.kind = 'accrued' GROUP BY j.counterparty");
    while (j.step()) {
        // A flush committed between the two reads can add a counterparty the first one did not
        // see: it is left for the next call (index.at() here used to fail the whole call).
        auto const at = index.find(j.column_int(0));
        if (at == index.end())
            continue;
        auto& r = rows[at->second];
        r.bytes_up = j.column_int(1);
        r.bytes_down = j.column_int(2);
        r.last_seen = std::max(r.last_seen, j.column_int(4));
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
void sort_peers(std::vector<PeerView>& rows, std::string const& sort)
{
    if (sort != "id")
        std::stable_sort(rows.begin(), rows.end(), [&](PeerView const& a, PeerView const& b) {
            if (sort == "bytes_down")
                return a.bytes_down > b.bytes_down;
            if (sort == "credits")
                return a.credits > b.credits;
            if (sort == "last_seen")
                return a.last_seen > b.last_seen;
            return a.bytes_up > b.bytes_up;
        });
}

} // namespace

Page<PeerView, std::int64_t> Ledger::peers(std::int64_t limit, std::int64_t after,
                                           std::string const& sort)
{
    std::lock_guard lock(read_mutex_);
    auto rows = peer_rows(reader_);
    auto [latest, our_bids] = peer_vouchers(reader_);
    sort_peers(rows, sort);
    Page<PeerView, std::int64_t> out;
    bool started = after <= 0;
    for (auto& r : rows) {
        if (!started) {
            started = r.id == after;
            continue;
        }
        if (limit > 0 && static_cast<std::int64_t>(out.rows.size()) == limit) {
            out.next = out.rows.back().id;
            break;
        }
        auto it = r.address.empty() ? latest.end() : latest.find(r.address);
        r.vouchered = it == latest.end() ? Uint256(0) : it->second.cumulative;
        r.unpaid = r.credits > r.vouchered ? r.credits - r.vouchered : 0;
        if (it != latest.end()) {
            r.latest_voucher = PeerView::Latest{it->second.cumulative, it->second.time};
            r.bid_per_gib = it->second.bid;
        }
        auto ours = r.address.empty() ? our_bids.end() : our_bids.find(r.address);
        if (ours != our_bids.end())
            r.our_bid_per_gib = ours->second;
        out.rows.push_back(std::move(r));
    }
    return out;
}

Page<JournalEntry, std::int64_t> Ledger::journal(std::int64_t limit, std::int64_t after)
{
    std::lock_guard lock(read_mutex_);
    return page_query<JournalEntry>(
        reader_,
        "SELECT j.id, f.time, j.flush, j.counterparty, c.address, j.torrent, j.kind, j.bytes_up, "
        "j.bytes_down, j.price, j.amount FROM journal j JOIN flushes f ON f.id = j.flush JOIN "
        "counterparties c ON c.id = j.counterparty WHERE j.id > ? ORDER BY j.id LIMIT ?",
        after, limit,
        [](Stmt& s) {
            return JournalEntry{s.column_int(0),  s.column_int(1),  s.column_int(2),
                                s.column_int(3),  s.column_text(4), s.column_text(5),
                                s.column_text(6), s.column_int(7),  s.column_int(8),
                                s.column_text(9), s.column_text(10)};
        },
        [](JournalEntry const& e) { return e.id; });
}

} // namespace seedbox::ledger
