// Vouchers in ledger.db: the ones we keep as provider and issue as payer, their rows and JSON, and
// the balances the payment logic starts from.
#include "ledger/ledger.h"

#include "ledger/ledger_internal.h"

namespace seedbox::ledger {

using detail::Counterparties;
using detail::kVoucherColumns;
using detail::page_query;
using detail::voucher_row;
using tron::Uint256;

namespace detail {

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

} // namespace detail

namespace {

void bind_voucher(Stmt& st, Voucher const& v, std::string const& other)
{
    st.bind(1, other).bind(2, v.chain_id).bind(3, v.hub).bind(4, tron::to_decimal(v.cumulative));
    st.bind(5, v.signature).bind(6, v.torrent).bind(7, v.time);
    st.bind(8, v.bid == 0 ? std::string() : tron::to_decimal(v.bid));
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

VoucherPages Ledger::vouchers(std::string const& direction, std::int64_t limit,
                              std::string const& after)
{
    std::lock_guard lock(read_mutex_);
    VoucherPages out;
    if (direction.empty() || direction == "received")
        out.received = page_query<ReceivedVoucher>(
            reader_,
            std::string("SELECT ") + kVoucherColumns +
                ", count FROM vouchers_received WHERE payer > ? ORDER BY payer LIMIT ?",
            after, limit,
            [](Stmt& st) {
                return ReceivedVoucher{voucher_row(st), st.column_int(9)};
            },
            [](ReceivedVoucher const& r) { return r.voucher.payer; });
    if (direction.empty() || direction == "issued")
        out.issued = page_query<IssuedVoucher>(
            reader_,
            std::string("SELECT ") + kVoucherColumns +
                ", count, bytes, acked FROM vouchers_issued WHERE beneficiary > ? ORDER BY "
                "beneficiary LIMIT ?",
            after, limit,
            [](Stmt& st) {
                return IssuedVoucher{voucher_row(st), st.column_int(9), st.column_int(10),
                                     st.column_text(11)};
            },
            [](IssuedVoucher const& r) { return r.voucher.beneficiary; });
    return out;
}

} // namespace seedbox::ledger
