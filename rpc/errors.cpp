#include "rpc/errors.h"

#include <algorithm>
#include <array>

namespace seedbox::rpc {
namespace {

using daemon::Errc;

constexpr std::array kKinds = {
    ErrorKind{Err::parse_error, -32700, "parse_error", "the request body is not valid JSON"},
    ErrorKind{Err::invalid_request, -32600, "invalid_request",
              "not a JSON-RPC 2.0 request (jsonrpc, method, id, an empty batch)"},
    ErrorKind{Err::too_deep, -32600, "too_deep", "JSON nested deeper than rpc.max_json_depth"},
    ErrorKind{Err::too_large, -32600, "too_large",
              "parsing the request would take more than 4 x rpc.max_body_bytes of memory"},
    ErrorKind{Err::batch_too_large, -32600, "batch_too_large",
              "a batch of more than rpc.max_batch calls"},
    ErrorKind{Err::method_not_found, -32601, "method_not_found",
              "no such method (see rpc.discover)"},
    ErrorKind{Err::invalid_params, -32602, "invalid_params",
              "a param is missing, unknown, of the wrong type or out of its range (named)",
              Errc::invalid_argument},
    ErrorKind{Err::websocket_only, -32602, "websocket_only",
              "the method needs the WebSocket (events.*)"},
    ErrorKind{Err::internal_error, -32603, "internal_error", "a bug: the daemon logs it"},
    ErrorKind{Err::unauthorized, -32001, "unauthorized", "no token, or a wrong one"},
    ErrorKind{Err::too_many_failures, -32001, "too_many_failures",
              "too many wrong tokens from this address; retry later"},
    ErrorKind{Err::busy, -32003, "busy", "the slow pool's queue is full; retry shortly"},
    ErrorKind{Err::shutting_down, -32003, "shutting_down", "the daemon is stopping",
              Errc::shutting_down},
    ErrorKind{Err::torrent_not_found, 1001, "torrent_not_found", "no torrent with that id",
              Errc::torrent_not_found},
    ErrorKind{Err::invalid_metainfo, 1002, "invalid_metainfo", "not a valid .torrent",
              Errc::invalid_metainfo},
    ErrorKind{Err::invalid_magnet, 1003, "invalid_magnet", "not a valid magnet link",
              Errc::invalid_magnet},
    ErrorKind{Err::path_not_allowed, 1004, "path_not_allowed",
              "a path outside torrent.allowed_roots (the message names them)",
              Errc::path_not_allowed},
    ErrorKind{Err::fetch_failed, 1005, "fetch_failed", "a .torrent URL could not be fetched",
              Errc::fetch_failed},
    ErrorKind{Err::url_add_disabled, 1006, "url_add_disabled", "torrent.url_add is off",
              Errc::url_add_disabled},
    ErrorKind{Err::storage_failed, 1007, "storage_failed",
              "state.db or ledger.db could not be written; nothing changed", Errc::storage_failed},
    ErrorKind{Err::create_failed, 1008, "create_failed", "torrent.create could not build it",
              Errc::create_failed},
    ErrorKind{Err::no_metadata, 1009, "no_metadata", "a magnet whose metadata has not arrived yet",
              Errc::no_metadata},
    ErrorKind{Err::invalid_file_index, 1010, "invalid_file_index", "no file with that index",
              Errc::invalid_file_index},
    ErrorKind{Err::invalid_tracker, 1011, "invalid_tracker", "not an http(s) or udp tracker URL",
              Errc::invalid_tracker},
    ErrorKind{Err::invalid_base64, 1012, "invalid_base64", "metainfo is not valid base64"},
    ErrorKind{Err::data_in_use, 1013, "data_in_use",
              "deleting this torrent's data would delete another torrent's files",
              Errc::data_in_use},
    ErrorKind{Err::file_not_found, 1014, "file_not_found", "a server-side path names nothing",
              Errc::file_not_found},
    ErrorKind{Err::torrent_loading, 1015, "torrent_loading",
              "the torrent is still loading after a restart (or failed to load); retry shortly",
              Errc::torrent_loading},
    ErrorKind{Err::no_wallet, 2001, "no_wallet", "no TRON key (tron.key_file)"},
    ErrorKind{Err::nothing_to_settle, 2002, "nothing_to_settle",
              "no claimable vouchers for a batch", Errc::nothing_to_settle},
    ErrorKind{Err::settlement_unavailable, 2003, "settlement_unavailable",
              "settlement cannot run as configured (the message says what is missing)",
              Errc::settlement_unavailable},
    ErrorKind{Err::batch_not_found, 2004, "batch_not_found", "no batch with that id",
              Errc::batch_not_found},
    ErrorKind{Err::node_failed, 2005, "node_failed", "the TRON node refused or did not answer",
              Errc::node_failed},
};

constexpr bool in_order()
{
    for (std::size_t i = 0; i < kKinds.size(); ++i)
        if (static_cast<std::size_t>(kKinds[i].err) != i)
            return false;
    return true;
}
static_assert(in_order(), "kKinds lists every Err once, in the enum's order");

} // namespace

std::span<ErrorKind const> kinds()
{
    return kKinds;
}

ErrorKind const& kind(Err e)
{
    return kKinds[static_cast<std::size_t>(e)];
}

RpcError::RpcError(Err e, std::string const& message)
    : std::runtime_error(message), code(kind(e).code), token(kind(e).token)
{
}

RpcError to_rpc(daemon::Error const& e)
{
    auto it = std::find_if(kKinds.begin(), kKinds.end(),
                           [&](ErrorKind const& k) { return k.from == e.code; });
    return {it != kKinds.end() ? it->err : Err::internal_error, e.message};
}

nlohmann::json error_object(int code, std::string const& token, std::string const& message)
{
    return {{"code", code}, {"message", message}, {"data", {{"token", token}}}};
}

} // namespace seedbox::rpc
