// ledger.db's schema: its tables, indexes and triggers as numbered migrations, oldest first.
#include "ledger/schema.h"

namespace seedbox::ledger {

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

} // namespace

std::vector<std::string_view> const& ledger_migrations()
{
    return kMigrations;
}

} // namespace seedbox::ledger
