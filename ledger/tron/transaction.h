// TRON transactions as the node hashes and signs them (../shared/tron.md §1-3): a minimal proto3
// writer for Transaction.raw, Transaction.Contract (google.protobuf.Any) and the two contracts we
// send (TriggerSmartContract, TransferContract); txID = SHA-256 of raw_data; a 65-byte signature
// (v = 27/28) over the txID; the whole signed Transaction for /wallet/broadcasthex.
// Fields are written in ascending field order and proto3 defaults (0, empty) are left out, which is
// what tronweb and java-tron produce. Pure functions, any thread.
#pragma once

#include "ledger/tron/keys.h"

namespace seedbox::tron {

// TaPoS: the block a transaction refers to.
struct RefBlock {
    std::array<std::uint8_t, 2> bytes{}; // big-endian block number, bytes 6..8
    std::array<std::uint8_t, 8> hash{};  // block id, bytes 8..16
};
[[nodiscard]] RefBlock ref_block(std::int64_t number, Hash32 const& block_id);

struct TxHeader {
    RefBlock ref;
    std::int64_t expiration = 0; // Unix ms
    std::int64_t timestamp = 0;  // Unix ms
    std::int64_t fee_limit = 0;  // sun; VM contracts only
    std::int32_t permission_id = 0;
};

struct TriggerSmartContract {
    Address owner;
    Address contract;
    std::int64_t call_value = 0;
    Bytes data; // ABI calldata
};

struct TransferContract {
    Address owner;
    Address to;
    std::int64_t amount = 0; // sun
};

[[nodiscard]] Bytes encode(TriggerSmartContract const& c);
[[nodiscard]] Bytes encode(TransferContract const& c);
// Transaction.raw with exactly one contract.
[[nodiscard]] Bytes raw_data(TxHeader const& h, TriggerSmartContract const& c);
[[nodiscard]] Bytes raw_data(TxHeader const& h, TransferContract const& c);

[[nodiscard]] inline Hash32 tx_id(ByteView raw)
{
    return sha256(raw);
}

struct SignedTransaction {
    Bytes raw;
    Hash32 id;
    Signature signature;
    Bytes encoded; // protocol.Transaction {raw_data, signature}, for /wallet/broadcasthex
};
[[nodiscard]] SignedTransaction sign_transaction(PrivateKey const& key, Bytes raw);
// protocol.Transaction {raw_data = 1, repeated signature = 2}.
[[nodiscard]] Bytes encode_transaction(ByteView raw, std::vector<Signature> const& signatures);

} // namespace seedbox::tron
