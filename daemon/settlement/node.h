// The TRON full-node HTTP API calls settlement makes (../shared/tron.md §5), parsed defensively:
// proto3 defaults are omitted by the node (absent `result` = false, absent `code` = SUCCESS,
// absent numbers = 0), int64 values are read as integers, and {"Error": ...} answers are errors.
// The transport (HTTP, in rpc/) is injected so this layer never sees sockets.
#pragma once

#include "daemon/base/errors.h"
#include "ledger/tron/address.h"
#include "ledger/tron/bytes.h"

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

namespace seedbox::daemon {

// POSTs a JSON body to path on the full node (solidity=false) or the solidity node; returns the
// parsed JSON answer, or an error for transport failures, HTTP statuses other than 200 and
// bodies that are not JSON.
using NodeTransport = std::function<Result<nlohmann::json>(bool solidity, std::string const& path,
                                                           nlohmann::json const& body)>;

struct BlockRef {
    std::int64_t number = 0;
    std::string id; // hex
    std::int64_t timestamp = 0;
};

struct ConstantResult {
    bool ok = false;
    std::string message; // when !ok: the node's message, or the revert reason
    std::int64_t energy_used = 0;
    tron::Bytes result;
};

struct BroadcastResult {
    bool accepted = false; // result:true or DUP_TRANSACTION_ERROR
    std::string code;      // SUCCESS, SERVER_BUSY, TAPOS_ERROR, ...
    std::string message;
    [[nodiscard]] bool temporary() const; // worth re-sending the same bytes
};

struct TxInfo {
    bool found = false;
    std::int64_t block = 0;
    std::string receipt_result; // SUCCESS, REVERT, OUT_OF_ENERGY, ...
    bool failed = false;        // result: "FAILED"
    std::string message;        // resMessage, decoded
    std::int64_t energy = 0;
    std::int64_t fee = 0;
    struct Log {
        tron::Bytes address; // 20 bytes
        std::vector<tron::Bytes> topics;
        tron::Bytes data;
    };
    std::vector<Log> logs;
};

class Node {
public:
    explicit Node(NodeTransport transport) : t_(std::move(transport)) {}

    [[nodiscard]] Result<BlockRef> now_block(bool solidity);
    [[nodiscard]] Result<ConstantResult>
    constant_call(tron::Address const& owner, tron::Address const& contract, tron::ByteView data);
    [[nodiscard]] Result<BroadcastResult> broadcast_hex(std::string const& signed_hex);
    [[nodiscard]] Result<TxInfo> tx_info(std::string const& txid, bool solidity);
    // true when /wallet(solidity)/gettransactionbyid knows the txID.
    [[nodiscard]] Result<bool> tx_known(std::string const& txid, bool solidity);
    [[nodiscard]] Result<std::int64_t> trx_balance(tron::Address const& a); // sun; 0 if absent
    [[nodiscard]] Result<std::map<std::string, std::int64_t>> chain_parameters();

private:
    [[nodiscard]] Result<nlohmann::json> call(bool solidity, std::string const& path,
                                              nlohmann::json const& body);
    NodeTransport t_;
};

} // namespace seedbox::daemon
