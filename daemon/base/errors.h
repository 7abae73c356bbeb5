// Domain errors of the daemon core, returned as values (never thrown below rpc/). The RPC layer
// maps each Errc to a stable JSON-RPC code and token (rpc/errors.cpp); append only, never reuse.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace seedbox::daemon {

enum class Errc {
    torrent_not_found = 1,
    invalid_metainfo,
    invalid_magnet,
    path_not_allowed,
    fetch_failed,
    url_add_disabled,
    invalid_argument,
    storage_failed,
    create_failed,
    shutting_down,
    no_metadata,
    invalid_file_index,
    invalid_tracker,
    nothing_to_settle,
    settlement_unavailable,
    batch_not_found,
    node_failed,
    data_in_use,
    file_not_found,
    torrent_loading,
};
// The last Errc: a new one goes after it and becomes kLastErrc (the RPC error table's test walks
// every Errc up to here, so one without an RPC error fails it).
inline constexpr Errc kLastErrc = Errc::torrent_loading;

struct Error {
    Errc code;
    std::string message;
};

// A value or an Error. Small on purpose: what std::expected would be in C++23.
template <class T> class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::move(value)) {}
    Result(Error error) : v_(std::move(error)) {}
    [[nodiscard]] bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }
    T& value() { return std::get<0>(v_); }
    T const& value() const { return std::get<0>(v_); }
    T* operator->() { return &value(); }
    T& operator*() { return value(); }
    [[nodiscard]] Error const& error() const { return std::get<1>(v_); }

private:
    std::variant<T, Error> v_;
};

struct Ok {};
using Status = Result<Ok>;

inline Error make_error(Errc code, std::string message)
{
    return Error{code, std::move(message)};
}

} // namespace seedbox::daemon
