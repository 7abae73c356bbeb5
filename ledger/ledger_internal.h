// What the files behind Ledger (ledger.cpp, vouchers.cpp, views.cpp, verify.cpp) share; not part
// of the ledger's API.
#pragma once

#include "ledger/ledger.h"

#include <string>
#include <utility>

namespace seedbox::ledger::detail {

// 2^30 bytes: prices are per GiB.
extern tron::Uint256 const kGiB;

// Runs a query whose two parameters are (after, limit + 1). Returns the rows (`row` makes each
// from the statement) and, when more follow, the `key` of the last row returned (the next page's
// `after`).
template <class Row, class Key, class RowFn, class KeyFn>
Page<Row, Key> page_query(Db& db, std::string const& sql, Key const& after, std::int64_t limit,
                          RowFn&& row, KeyFn&& key)
{
    auto st = db.prepare(sql);
    st.bind(1, after).bind(2, limit + 1);
    Page<Row, Key> page;
    while (st.step()) {
        if (static_cast<std::int64_t>(page.rows.size()) == limit) {
            page.next = key(page.rows.back());
            break;
        }
        page.rows.push_back(row(st));
    }
    return page;
}

// Finds or creates counterparty rows. Known ones come from `cache` (the writer thread's memory of
// ids and carried remainders), so a steady-state flush costs one INSERT per delta.
class Counterparties {
public:
    Counterparties(Db& db, PartyCache& cache);

    // The cache entry (row id and carried remainder) for a delta's counterparty.
    Party& get(Delta const& d, std::int64_t now);

private:
    PartyCache& cache_;
    Stmt insert_;
    Stmt find_;
    Stmt last_carry_;
};

// Columns 0-8 of every voucher query: payer, beneficiary, chain_id, hub, cumulative, signature,
// torrent, time, bid.
inline constexpr char const* kVoucherColumns =
    "payer, beneficiary, chain_id, hub, cumulative, signature, torrent, time, bid";

// The Voucher in columns 0-8 (kVoucherColumns) of the current row.
Voucher voucher_row(Stmt& st);

} // namespace seedbox::ledger::detail
