#include "rpc/errors.h"

namespace seedbox::rpc {

RpcError to_rpc(daemon::Error const& e)
{
    using daemon::Errc;
    switch (e.code) {
    case Errc::torrent_not_found:
        return {kTorrentNotFound, "torrent_not_found", e.message};
    case Errc::invalid_metainfo:
        return {kInvalidMetainfo, "invalid_metainfo", e.message};
    case Errc::invalid_magnet:
        return {kInvalidMagnet, "invalid_magnet", e.message};
    case Errc::path_not_allowed:
        return {kPathNotAllowed, "path_not_allowed", e.message};
    case Errc::fetch_failed:
        return {kFetchFailed, "fetch_failed", e.message};
    case Errc::url_add_disabled:
        return {kUrlAddDisabled, "url_add_disabled", e.message};
    case Errc::invalid_argument:
        return {kInvalidParams, "invalid_params", e.message};
    case Errc::storage_failed:
        return {kStorageFailed, "storage_failed", e.message};
    case Errc::create_failed:
        return {kCreateFailed, "create_failed", e.message};
    case Errc::shutting_down:
        return {kBusy, "shutting_down", e.message};
    case Errc::no_metadata:
        return {kNoMetadata, "no_metadata", e.message};
    case Errc::invalid_file_index:
        return {kInvalidFileIndex, "invalid_file_index", e.message};
    case Errc::invalid_tracker:
        return {kInvalidTracker, "invalid_tracker", e.message};
    case Errc::nothing_to_settle:
        return {kNothingToSettle, "nothing_to_settle", e.message};
    case Errc::settlement_unavailable:
        return {kSettlementUnavailable, "settlement_unavailable", e.message};
    case Errc::batch_not_found:
        return {kBatchNotFound, "batch_not_found", e.message};
    case Errc::node_failed:
        return {kNodeFailed, "node_failed", e.message};
    case Errc::data_in_use:
        return {kDataInUse, "data_in_use", e.message};
    case Errc::file_not_found:
        return {kFileNotFound, "file_not_found", e.message};
    }
    return {kInternalError, "internal_error", e.message};
}

nlohmann::json error_object(int code, std::string const& token, std::string const& message)
{
    return {{"code", code}, {"message", message}, {"data", {{"token", token}}}};
}

} // namespace seedbox::rpc
