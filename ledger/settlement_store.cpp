#include "ledger/settlement_store.h"

#include <algorithm>
#include <chrono>

namespace seedbox::ledger {

using tron::Uint256;

namespace {

constexpr char const* kBatchColumns =
    "id, state, mode, txid, raw_data_hex, signature, signed_hex, owner, hub, chain_id, ref_number, "
    "ref_hash, expiration, fee_limit, energy_estimate, created, updated, broadcasts, block, "
    "energy, fee, error";

std::optional<std::int64_t> opt_int(Stmt const& st, int i)
{
    if (st.column_null(i))
        return std::nullopt;
    return st.column_int(i);
}

Batch batch_row(Stmt const& st)
{
    Batch b;
    b.id = st.column_int(0);
    // The column only ever holds names written from BatchState (a CHECK would say the same).
    b.state = parse_batch_state(st.column_text(1)).value_or(BatchState::expired);
    b.mode = st.column_text(2);
    b.txid = st.column_text(3);
    b.raw_data_hex = st.column_text(4);
    b.signature = st.column_text(5);
    b.signed_hex = st.column_text(6);
    b.owner = st.column_text(7);
    b.hub = st.column_text(8);
    b.chain_id = st.column_int(9);
    b.ref_number = st.column_int(10);
    b.ref_hash = st.column_text(11);
    b.expiration = st.column_int(12);
    b.fee_limit = st.column_int(13);
    b.energy_estimate = st.column_int(14);
    b.created = st.column_int(15);
    b.updated = st.column_int(16);
    b.broadcasts = st.column_int(17);
    b.block = opt_int(st, 18);
    b.energy = opt_int(st, 19);
    b.fee = opt_int(st, 20);
    b.error = st.column_text(21);
    return b;
}

void load_claims(Db& db, Batch& b)
{
    auto st = db.prepare("SELECT payer, cumulative, signature, previous, outcome, paid FROM "
                         "settlement_claims WHERE batch = ? ORDER BY position");
    st.bind(1, b.id);
    while (st.step())
        b.claims.push_back({st.column_text(0), stored_amount(st.column_text(1)), st.column_text(2),
                            stored_amount(st.column_text(3)), st.column_text(4),
                            stored_amount(st.column_text(5))});
}

std::vector<Batch> query_batches(Db& db, std::string const& where, auto bind)
{
    auto st =
        db.prepare(std::string("SELECT ") + kBatchColumns + " FROM settlement_batches " + where);
    bind(st);
    std::vector<Batch> out;
    while (st.step())
        out.push_back(batch_row(st));
    for (auto& b : out)
        load_claims(db, b);
    return out;
}

// How far along a state is: final, reverted and expired are all ends (3).
int rank(BatchState s)
{
    return std::min(static_cast<int>(s), 3);
}

std::int64_t now_ms()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// Covered per payer: max(paid on chain, cumulative in a pending batch). An offline batch, which
// someone else broadcasts, covers its claims only until it expires: after that its bytes can never
// be included.
std::map<std::string, Uint256> covered(Db& db)
{
    std::map<std::string, Uint256> c;
    auto p = db.prepare("SELECT payer, paid FROM settlement_paid");
    while (p.step())
        c[p.column_text(0)] = stored_amount(p.column_text(1));
    auto q = db.prepare("SELECT c.payer, c.cumulative FROM settlement_claims c JOIN "
                        "settlement_batches b ON b.id = c.batch WHERE b.state IN ('built', "
                        "'broadcast', 'included') AND NOT (b.mode = 'offline' AND b.expiration "
                        "<= ?)");
    q.bind(1, now_ms());
    while (q.step()) {
        auto& v = c[q.column_text(0)];
        v = std::max(v, stored_amount(q.column_text(1)));
    }
    return c;
}

// The steps of SettlementStore::transition, each on the writer's open transaction; each returns
// an error (the transaction is rolled back) or empty.

// A batch moves forward only: an end state (rank 3) never moves, and no state moves back.
std::string check_transition(Db& db, Batch const& u)
{
    auto cur = db.prepare("SELECT state FROM settlement_batches WHERE id = ?");
    cur.bind(1, u.id);
    if (!cur.step())
        return "no batch " + std::to_string(u.id);
    auto from_name = cur.column_text(0);
    auto from = parse_batch_state(from_name);
    if (!from || rank(*from) == 3 || rank(u.state) < rank(*from))
        return "batch " + std::to_string(u.id) + " cannot go from " + from_name + " to " +
               name(u.state);
    return {};
}

std::string update_batch(Db& db, Batch const& u, std::int64_t now)
{
    auto st = db.prepare("UPDATE settlement_batches SET state = ?, updated = ?, block = ?, "
                         "energy = ?, fee = ?, error = ? WHERE id = ?");
    st.bind(1, std::string(name(u.state))).bind(2, now);
    auto bind_opt = [&st](int i, std::optional<std::int64_t> const& v) {
        if (v)
            st.bind(i, *v);
        else
            st.bind_null(i);
    };
    bind_opt(3, u.block);
    bind_opt(4, u.energy);
    bind_opt(5, u.fee);
    st.bind(6, u.error).bind(7, u.id);
    return st.run() ? std::string() : st.error();
}

// A reverted or expired batch gives its claims back.
std::string return_claims(Db& db, std::int64_t batch)
{
    auto r = db.prepare("UPDATE settlement_claims SET outcome = 'returned' WHERE batch = ?");
    r.bind(1, batch);
    return r.run() ? std::string() : r.error();
}

// A final batch: each claim's outcome from the hub's logs, and paid[payer] raised to the chain's
// total where that is higher than ours.
std::string settle_claims(Db& db, Batch const& u, std::vector<ClaimOutcome> const& outcomes,
                          std::int64_t now)
{
    auto mark = db.prepare("UPDATE settlement_claims SET outcome = ?, paid = ? WHERE batch = "
                           "? AND payer = ? AND cumulative = ? AND outcome = 'pending'");
    auto raise =
        db.prepare("INSERT INTO settlement_paid (payer, paid, updated) VALUES (?,?,?) ON CONFLICT "
                   "(payer) DO UPDATE SET paid = excluded.paid, updated = excluded.updated");
    auto known = db.prepare("SELECT paid FROM settlement_paid WHERE payer = ?");
    for (auto const& o : outcomes) {
        mark.reset();
        mark.bind(1, o.claimed ? std::string("claimed") : "skipped:" + std::to_string(o.reason));
        mark.bind(2, tron::to_decimal(o.claimed ? o.amount : Uint256(0)));
        mark.bind(3, u.id).bind(4, o.payer).bind(5, tron::to_decimal(o.cumulative));
        if (!mark.run())
            return mark.error();
        if (!o.claimed)
            continue;
        known.reset();
        known.bind(1, o.payer);
        if (known.step() && stored_amount(known.column_text(0)) >= o.paid_total)
            continue;
        known.reset();
        raise.reset();
        raise.bind(1, o.payer).bind(2, tron::to_decimal(o.paid_total)).bind(3, now);
        if (!raise.run())
            return raise.error();
    }
    // An entry with no event (should not happen) is left visible rather than guessed.
    auto left = db.prepare("UPDATE settlement_claims SET outcome = 'unreported' WHERE batch "
                           "= ? AND outcome = 'pending'");
    left.bind(1, u.id);
    return left.run() ? std::string() : left.error();
}

} // namespace

Uint256 Batch::total() const
{
    Uint256 t = 0;
    for (auto const& c : claims)
        t += c.cumulative - c.previous;
    return t;
}

char const* name(BatchState s)
{
    switch (s) {
    case BatchState::built:
        return "built";
    case BatchState::broadcast:
        return "broadcast";
    case BatchState::included:
        return "included";
    case BatchState::final:
        return "final";
    case BatchState::reverted:
        return "reverted";
    case BatchState::expired:
        return "expired";
    }
    return "expired";
}

std::optional<BatchState> parse_batch_state(std::string_view n)
{
    for (int i = 0; i <= static_cast<int>(BatchState::expired); ++i)
        if (n == name(static_cast<BatchState>(i)))
            return static_cast<BatchState>(i);
    return std::nullopt;
}

std::vector<std::string> const& Batch::states()
{
    static auto const v = [] {
        std::vector<std::string> out;
        for (int i = 0; i <= static_cast<int>(BatchState::expired); ++i)
            out.emplace_back(name(static_cast<BatchState>(i)));
        return out;
    }();
    return v;
}

Uint256 Batch::paid() const
{
    Uint256 t = 0;
    for (auto const& c : claims)
        t += c.paid;
    return t;
}

std::vector<Claim> SettlementStore::candidates(std::string const& hub, std::int64_t chain_id,
                                               std::size_t max)
{
    std::vector<Claim> out;
    ledger_.read([&](Db& db) {
        // One snapshot for all three reads: a batch turning final between them (its claims
        // leaving "pending" as paid rises) would otherwise look uncovered and be claimed twice.
        bool began = db.exec("BEGIN").empty();
        struct End {
            Db& db;
            bool began;
            ~End()
            {
                if (began)
                    (void)db.exec("COMMIT");
            }
        } end{db, began};
        auto cov = covered(db);
        auto st = db.prepare("SELECT payer, cumulative, signature FROM vouchers_received WHERE "
                             "hub = ? AND chain_id = ?");
        st.bind(1, hub).bind(2, chain_id);
        while (st.step()) {
            Claim c;
            c.payer = st.column_text(0);
            c.cumulative = stored_amount(st.column_text(1));
            c.signature = st.column_text(2);
            auto it = cov.find(c.payer);
            c.previous = it == cov.end() ? Uint256(0) : it->second;
            if (c.cumulative > c.previous)
                out.push_back(std::move(c));
        }
    });
    std::stable_sort(out.begin(), out.end(), [](Claim const& a, Claim const& b) {
        return a.cumulative - a.previous > b.cumulative - b.previous;
    });
    if (out.size() > max)
        out.resize(max);
    return out;
}

Uint256 SettlementStore::claimable(std::string const& hub, std::int64_t chain_id)
{
    Uint256 total = 0;
    for (auto const& c : candidates(hub, chain_id, SIZE_MAX))
        total += c.cumulative - c.previous;
    return total;
}

std::string SettlementStore::insert(Batch& b)
{
    b.created = b.updated = unix_seconds();
    std::int64_t id = 0;
    auto err = ledger_.writer().run([&b, &id](Db& db) -> std::string {
        auto st = db.prepare(
            "INSERT INTO settlement_batches (state, mode, txid, raw_data_hex, signature, "
            "signed_hex, owner, hub, chain_id, ref_number, ref_hash, expiration, fee_limit, "
            "energy_estimate, created, updated) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
        st.bind(1, std::string(name(b.state)))
            .bind(2, b.mode)
            .bind(3, b.txid)
            .bind(4, b.raw_data_hex);
        st.bind(5, b.signature).bind(6, b.signed_hex).bind(7, b.owner).bind(8, b.hub);
        st.bind(9, b.chain_id).bind(10, b.ref_number).bind(11, b.ref_hash);
        st.bind(12, b.expiration).bind(13, b.fee_limit).bind(14, b.energy_estimate);
        st.bind(15, b.created).bind(16, b.updated);
        if (!st.run())
            return st.error();
        id = db.last_insert_id();
        auto c = db.prepare("INSERT INTO settlement_claims (batch, position, payer, cumulative, "
                            "signature, previous) VALUES (?,?,?,?,?,?)");
        std::int64_t pos = 0;
        for (auto const& cl : b.claims) {
            c.reset();
            c.bind(1, id).bind(2, pos++).bind(3, cl.payer).bind(4, tron::to_decimal(cl.cumulative));
            c.bind(5, cl.signature).bind(6, tron::to_decimal(cl.previous));
            if (!c.run())
                return c.error();
        }
        return {};
    });
    if (err.empty())
        b.id = id;
    return err;
}

std::string SettlementStore::transition(Batch const& u, std::vector<ClaimOutcome> const& outcomes)
{
    auto now = unix_seconds();
    return ledger_.writer().run([&](Db& db) -> std::string {
        if (auto err = check_transition(db, u); !err.empty())
            return err;
        if (auto err = update_batch(db, u, now); !err.empty())
            return err;
        if (u.state == BatchState::reverted || u.state == BatchState::expired)
            if (auto err = return_claims(db, u.id); !err.empty())
                return err;
        if (u.state != BatchState::final)
            return {};
        return settle_claims(db, u, outcomes, now);
    });
}

std::string SettlementStore::count_broadcast(std::int64_t id)
{
    return ledger_.writer().run([id](Db& db) -> std::string {
        auto st =
            db.prepare("UPDATE settlement_batches SET broadcasts = broadcasts + 1 WHERE id = ?");
        st.bind(1, id);
        return st.run() ? std::string() : st.error();
    });
}

std::string SettlementStore::raise_paid(std::string const& payer, Uint256 const& paid)
{
    auto now = unix_seconds();
    return ledger_.writer().run([&](Db& db) -> std::string {
        auto known = db.prepare("SELECT paid FROM settlement_paid WHERE payer = ?");
        known.bind(1, payer);
        if (known.step() && stored_amount(known.column_text(0)) >= paid)
            return {};
        auto st = db.prepare(
            "INSERT INTO settlement_paid (payer, paid, updated) VALUES (?,?,?) ON CONFLICT "
            "(payer) DO UPDATE SET paid = excluded.paid, updated = excluded.updated");
        st.bind(1, payer).bind(2, tron::to_decimal(paid)).bind(3, now);
        return st.run() ? std::string() : st.error();
    });
}

std::optional<Batch> SettlementStore::get(std::int64_t id)
{
    return ledger_.read([&](Db& db) -> std::optional<Batch> {
        auto v = query_batches(db, "WHERE id = ?", [id](Stmt& st) { st.bind(1, id); });
        if (v.empty())
            return std::nullopt;
        return std::move(v.front());
    });
}

std::vector<Batch> SettlementStore::pending()
{
    return ledger_.read([](Db& db) {
        return query_batches(db, "WHERE state IN ('built', 'broadcast', 'included') ORDER BY id",
                             [](Stmt&) {});
    });
}

std::vector<Batch> SettlementStore::list(std::int64_t limit, std::int64_t before,
                                         std::string const& state)
{
    return ledger_.read([&](Db& db) {
        return query_batches(db,
                             "WHERE (? = 0 OR id < ?) AND (? = '' OR state = ?) ORDER BY id "
                             "DESC LIMIT ?",
                             [&](Stmt& st) {
                                 st.bind(1, before).bind(2, before).bind(3, state);
                                 st.bind(4, state).bind(5, limit);
                             });
    });
}

std::map<std::string, Uint256> SettlementStore::paid()
{
    return ledger_.read([](Db& db) {
        std::map<std::string, Uint256> out;
        auto st = db.prepare("SELECT payer, paid FROM settlement_paid");
        while (st.step())
            out[st.column_text(0)] = stored_amount(st.column_text(1));
        return out;
    });
}

std::map<std::string, std::int64_t> SettlementStore::counts()
{
    return ledger_.read([](Db& db) {
        std::map<std::string, std::int64_t> out;
        auto st = db.prepare("SELECT state, count(*) FROM settlement_batches GROUP BY state");
        while (st.step())
            out[st.column_text(0)] = st.column_int(1);
        return out;
    });
}

} // namespace seedbox::ledger
