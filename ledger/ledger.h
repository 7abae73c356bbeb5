// ledger.db: money only, separate from state.db so a torrent-state problem can never touch it.
// SQLite in WAL with synchronous=FULL. The journal is append-only (enforced by triggers); balances
// are sums of journal rows. Amounts are uint256 BTT base units stored as decimal TEXT.
//
// Counterparties: a peer that authenticated a TRON address accrues to that address across
// torrents and restarts; any other peer is (torrent, IP, client) with bytes only, never priced.
//
// Threads: flush() never blocks (one transaction on the writer thread); the read methods use their
// own read-only connection and may be called from any thread except the io thread.
#pragma once

#include "ledger/db.h"
#include "ledger/tron/uint256.h"
#include "ledger/writer.h"

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>

namespace seedbox::ledger {

// An amount as ledger.db stores it (decimal TEXT we wrote ourselves; 0 if unreadable).
[[nodiscard]] tron::Uint256 stored_amount(std::string const& decimal);
[[nodiscard]] std::int64_t unix_seconds();

// Bytes moved with one counterparty since the last flush.
struct Delta {
    std::string torrent; // info-hash hex
    std::string ip;
    std::string client;
    std::string address; // Base58 TRON address when authenticated, else empty
    std::int64_t up = 0; // payload bytes we sent
    std::int64_t down = 0;
    // Per GiB for `up` when it is not flush()'s price: the bid a paying peer was accepted at.
    std::optional<tron::Uint256> price;
};

struct FlushSummary {
    std::int64_t flush = 0;
    std::size_t rows = 0;
    std::int64_t bytes_up = 0;
    std::int64_t bytes_down = 0;
    tron::Uint256 credits = 0;
};

// A payment voucher (design.md §6) as the ledger keeps it. Addresses are Base58.
struct Voucher {
    std::string payer;
    std::string beneficiary;
    std::int64_t chain_id = 0;
    std::string hub;
    tron::Uint256 cumulative = 0;
    std::string signature; // 65 bytes as hex
    std::string torrent;   // info-hash of the connection it travelled on
    std::int64_t time = 0;
    tron::Uint256 bid = 0; // per GiB the bytes it pays for were priced at; 0 = before bids
};

// The payer side of one provider relationship: our newest voucher and how we got to it.
struct Issued {
    Voucher voucher;
    tron::Uint256 carry = 0; // bytes x price below one base unit, carried to the next voucher
    std::int64_t bytes = 0;  // bytes received that the vouchers pay for
    tron::Uint256 acked = 0; // highest cumulative the provider acknowledged
};

// What the payment logic needs at start-up.
// Bytes uploaded to anonymous peers of one (torrent, IP) since `since` (unix seconds).
struct FreeUse {
    std::int64_t bytes = 0;
    std::int64_t since = 0;
};

struct Balances {
    std::map<std::string, tron::Uint256> accrued; // provider side: credits per payer address
    std::map<std::string, tron::Uint256> kept;    // provider side: highest voucher per payer
    std::map<std::string, Issued> issued;         // payer side: per beneficiary
    // Provider side: anonymous uploads flushed within the credit window, by (torrent, IP).
    std::map<std::pair<std::string, std::string>, FreeUse> free_use;
};

// Writer-thread memory of counterparty rows: id and carried remainder, by identity.
struct Party {
    std::int64_t id = 0;
    tron::Uint256 carry = 0;
};
using PartyCache = std::unordered_map<std::string, Party>;

// One page of a paged view and, when more follow, the key the next page starts after.
template <class Row, class Key> struct Page {
    std::vector<Row> rows;
    std::optional<Key> next;
};

// ledger.peers: one counterparty (an address, or an anonymous peer per torrent and IP).
struct PeerView {
    std::int64_t id = 0;
    std::string address; // Base58; empty for an anonymous peer
    std::string torrent;
    std::string ip;
    std::string client;
    std::int64_t first_seen = 0;
    std::int64_t last_seen = 0; // Unix s of its latest flush
    std::int64_t bytes_up = 0;
    std::int64_t bytes_down = 0;
    tron::Uint256 credits = 0;
    tron::Uint256 vouchered = 0; // its newest kept voucher's cumulative
    tron::Uint256 unpaid = 0;
    struct Latest {
        tron::Uint256 cumulative = 0;
        std::int64_t time = 0;
    };
    std::optional<Latest> latest_voucher;
    std::string bid_per_gib;     // its bid with that voucher; empty = none
    std::string our_bid_per_gib; // our bid to it as a payer; empty = none
};

// ledger.journal: one row as stored (amounts are the stored decimal text).
struct JournalEntry {
    std::int64_t id = 0;
    std::int64_t time = 0;
    std::int64_t flush = 0;
    std::int64_t counterparty = 0;
    std::string address; // empty for an anonymous counterparty
    std::string torrent;
    std::string kind; // accrued | vouchered
    std::int64_t bytes_up = 0;
    std::int64_t bytes_down = 0;
    std::string price_per_gib;
    std::string amount;
};

// ledger.vouchers: the kept voucher per payer, and our newest per provider.
struct ReceivedVoucher {
    Voucher voucher;
    std::int64_t count = 0; // vouchers received from this payer
};
struct IssuedVoucher {
    Voucher voucher;
    std::int64_t count = 0;
    std::int64_t bytes = 0;
    std::string acked; // the cumulative the provider acknowledged, as stored
};
struct VoucherPages {
    std::optional<Page<ReceivedVoucher, std::string>> received; // when asked for
    std::optional<Page<IssuedVoucher, std::string>> issued;
};

// ledger.summary: totals over the journal. Amounts are base units.
struct TorrentTotals {
    std::string torrent; // info-hash hex
    std::int64_t bytes_up = 0;
    std::int64_t bytes_down = 0;
    tron::Uint256 credits = 0;
    tron::Uint256 vouchered = 0;
};
struct Summary {
    std::int64_t bytes_up = 0;
    std::int64_t bytes_down = 0;
    tron::Uint256 credits_accrued = 0;
    tron::Uint256 vouchered = 0;
    tron::Uint256 unpaid = 0;   // accrued above vouchered, per counterparty
    tron::Uint256 paid_out = 0; // vouchers we issued as a payer
    std::vector<TorrentTotals> torrents;
    std::int64_t flushes = 0;         // accounting flushes committed
    std::int64_t last_flush_time = 0; // Unix s, 0 = never
};

// ledger.verify: what replaying the journal found.
struct VerifyReport {
    std::vector<std::string> violations; // one sentence per disagreement found
    std::int64_t journal_rows = 0;       // 'accrued' journal rows replayed
    std::size_t counterparties = 0;      // counterparty rows checked
    [[nodiscard]] bool ok() const { return violations.empty(); }
};

class Ledger {
public:
    static std::unique_ptr<Ledger> open(std::string const& path, std::string& error);

    // One transaction: a journal row per delta, credits for addressed counterparties at the
    // delta's price or else `price_per_gib` (base units per 2^30 bytes), rounding down and carrying
    // the remainder.
    void flush(std::vector<Delta> deltas, tron::Uint256 price_per_gib,
               std::function<void(std::string const& error, FlushSummary const&)> done = {});
    void sync() { writer_->flush(); }

    // Provider side: keeps `v` when its cumulative exceeds the voucher kept for v.payer, and
    // journals the increase as 'vouchered' (price = v.bid), in one transaction. `done` runs on the
    // writer thread after the commit with an error (nothing written) or the increase.
    void
    keep_voucher(Voucher v,
                 std::function<void(std::string const& error, tron::Uint256 const& increase)> done);
    // Payer side: persists our newest voucher to v.beneficiary before it is sent. `done` runs on
    // the writer thread after the commit.
    void save_issued(Issued issued, std::function<void(std::string const& error)> done);
    // Payer side: the provider acknowledged `cumulative` (kept only if higher).
    void save_ack(std::string const& beneficiary, tron::Uint256 const& cumulative);

    // `free_window`: seconds back from now that anonymous uploads still count (free_use).
    [[nodiscard]] Balances balances(std::int64_t free_window);
    // direction: "received" | "issued" | "" (both); paging by address.
    [[nodiscard]] VoucherPages vouchers(std::string const& direction, std::int64_t limit,
                                        std::string const& after);

    [[nodiscard]] Summary summary();
    // sort: "bytes_up" | "bytes_down" | "credits" | "last_seen"; `after` is the last id seen.
    [[nodiscard]] Page<PeerView, std::int64_t> peers(std::int64_t limit, std::int64_t after,
                                                     std::string const& sort);
    [[nodiscard]] Page<JournalEntry, std::int64_t> journal(std::int64_t limit, std::int64_t after);
    // Recomputes every credit from the journal and checks the stored state against it.
    [[nodiscard]] VerifyReport verify();

    // Credit for `bytes` at `price` given the carried remainder; updates `carry`. Exposed for
    // tests.
    [[nodiscard]] static tron::Uint256 credit(std::int64_t bytes, tron::Uint256 const& price,
                                              tron::Uint256& carry);

    // For stores that share ledger.db (settlement): its writer, and the read connection under
    // its lock. Never from the io thread.
    [[nodiscard]] Writer& writer() { return *writer_; }
    template <class Fn> auto read(Fn&& fn)
    {
        std::lock_guard lock(read_mutex_);
        return fn(reader_);
    }

private:
    Ledger(std::unique_ptr<Writer> writer, Db reader);

    std::shared_ptr<PartyCache> cache_ = std::make_shared<PartyCache>(); // writer thread only
    std::unique_ptr<Writer> writer_;
    std::mutex read_mutex_;
    Db reader_;
};

} // namespace seedbox::ledger
