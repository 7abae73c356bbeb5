// Accounting: Ledger::open, and flush(), which journals the bytes moved with each counterparty and
// credits addressed ones; the credit arithmetic and the counterparty rows it writes to.
#include "ledger/ledger.h"

#include "ledger/ledger_internal.h"
#include "ledger/schema.h"

#include <chrono>

namespace seedbox::ledger {

using detail::Counterparties;
using detail::kGiB;
using tron::Uint256;

namespace detail {

Uint256 const kGiB = Uint256(1) << 30;

Counterparties::Counterparties(Db& db, PartyCache& cache)
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

Party& Counterparties::get(Delta const& d, std::int64_t now)
{
    bool anonymous = d.address.empty();
    std::string key = anonymous ? '\x01' + d.torrent + '\0' + d.ip + '\0' + d.client : d.address;
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

} // namespace detail

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
    auto c = open_migrated(path, "FULL", ledger_migrations(), error);
    if (!c)
        return nullptr;
    return std::unique_ptr<Ledger>(new Ledger(
        std::make_unique<Writer>(std::move(c->writer), "sbx-ledger-db"), std::move(c->reader)));
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

} // namespace seedbox::ledger
