// Every error the JSON-RPC API answers with, in one table (kinds() in errors.cpp): its code, its
// token (error.data.token, the stable string clients match on), what it means, and which daemon
// error it stands for. The README's error table and rpc.discover's components.errors are checked
// against it (tests/integration/test_bad_input.py). Codes are append-only: never reuse or renumber
// one. Domain blocks: 1xxx torrents, 2xxx ledger, wallet and settlement (2002-2005 shipped there
// before design.md gave settlement 3xxx; new settlement and TRON errors take 3xxx).
#pragma once

#include "daemon/base/errors.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace seedbox::rpc {

enum class Err {
    parse_error,
    invalid_request,
    too_deep,
    too_large,
    batch_too_large,
    method_not_found,
    invalid_params,
    websocket_only,
    internal_error,
    unauthorized,
    too_many_failures,
    busy,
    shutting_down,
    torrent_not_found,
    invalid_metainfo,
    invalid_magnet,
    path_not_allowed,
    fetch_failed,
    url_add_disabled,
    storage_failed,
    create_failed,
    no_metadata,
    invalid_file_index,
    invalid_tracker,
    invalid_base64,
    data_in_use,
    file_not_found,
    torrent_loading,
    no_wallet,
    nothing_to_settle,
    settlement_unavailable,
    batch_not_found,
    node_failed,
};

struct ErrorKind {
    Err err;
    int code;
    std::string_view token;
    std::string_view meaning;
    std::optional<daemon::Errc> from{}; // the daemon error answered with it
};

// In the enum's order, each Err once (checked at compile time).
[[nodiscard]] std::span<ErrorKind const> kinds();
[[nodiscard]] ErrorKind const& kind(Err e);

// Thrown by handlers and the dispatcher only (the RPC boundary); never below rpc/.
struct RpcError : std::runtime_error {
    RpcError(Err e, std::string const& message);
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
