// JSON-RPC error codes and the one function mapping daemon errors to them. Codes are append-only:
// never reuse or renumber one; `token` (error.data.token) is the stable string clients match on.
#pragma once

#include "daemon/errors.h"

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace seedbox::rpc {

enum Code : int {
    kParseError = -32700,
    kInvalidRequest = -32600,
    kMethodNotFound = -32601,
    kInvalidParams = -32602,
    kInternalError = -32603,
    kUnauthorized = -32001,
    kForbidden = -32002,
    kBusy = -32003,
    // 1xxx: torrents
    kTorrentNotFound = 1001,
    kInvalidMetainfo = 1002,
    kInvalidMagnet = 1003,
    kPathNotAllowed = 1004,
    kFetchFailed = 1005,
    kUrlAddDisabled = 1006,
    kStorageFailed = 1007,
    kCreateFailed = 1008,
    kNoMetadata = 1009,
    kInvalidFileIndex = 1010,
    kInvalidTracker = 1011,
    kInvalidBase64 = 1012,
    kDataInUse = 1013,
    kFileNotFound = 1014,
    // 2xxx: ledger and wallet
    kNoWallet = 2001,
    kNothingToSettle = 2002,
    kSettlementUnavailable = 2003,
    kBatchNotFound = 2004,
    kNodeFailed = 2005,
};

// Thrown by handlers and the dispatcher only (the RPC boundary); never below rpc/.
struct RpcError : std::runtime_error {
    RpcError(int code, std::string token, std::string const& message)
        : std::runtime_error(message), code(code), token(std::move(token))
    {
    }
    int code;
    std::string token;
};

[[nodiscard]] RpcError to_rpc(daemon::Error const& e);
[[nodiscard]] nlohmann::json error_object(int code, std::string const& token,
                                          std::string const& message);

// Unwraps a daemon Result or throws its RpcError.
template <class T> T unwrap(daemon::Result<T> r)
{
    if (!r)
        throw to_rpc(r.error());
    return std::move(r.value());
}

} // namespace seedbox::rpc
