// What the files of rpc/transmission share: the method table's shape, the error that becomes
// the response's "result" string, and id resolution.
#pragma once

#include "config/settings.h"
#include "daemon/torrent/torrents.h"
#include "rpc/transmission/transmission.h"

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace seedbox::rpc::transmission {

using json = nlohmann::json;

// Thrown by a method: its message becomes "result" (Transmission answers errors that way).
struct Failure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// A method: arguments in, arguments out.
using Handler = json (*)(Context& ctx, json const& args);
struct MethodEntry {
    char const* name;
    Handler handler;
};
[[nodiscard]] std::vector<MethodEntry> const& session_methods();
[[nodiscard]] std::vector<MethodEntry> const& torrent_methods();

// The torrents `ids` names (absent: all): numbers (TorrentView::number), info-hash strings in any
// case, an array of both, or "recently-active". Unknown ids are skipped, as Transmission does.
// In the order asked for; each torrent once.
[[nodiscard]] std::vector<daemon::TorrentView> pick(Context& ctx, json const& args);
// The same, as the engine's ids.
[[nodiscard]] std::vector<std::string> pick_ids(Context& ctx, json const& args);

// session-set (session_set.cpp).
[[nodiscard]] json session_set(Context& ctx, json const& args);

// torrent-set (torrent_set.cpp).
[[nodiscard]] json torrent_set(Context& ctx, json const& args);

// torrent-get's fields of one torrent (torrent_fields.cpp).
[[nodiscard]] json torrent_object(Context& ctx, daemon::TorrentView const& t,
                                  std::vector<std::string> const& fields);
// True when `name` is a torrent-get field this daemon knows.
[[nodiscard]] bool known_torrent_field(std::string const& name);

// A labels argument: strings without commas, none empty, no duplicates (Transmission's rules).
[[nodiscard]] std::vector<std::string> labels_of(json const& v);
// true/false, or 1/0 as Transmission also takes them; `key` names it in the error.
[[nodiscard]] bool boolean(json const& v, std::string const& key);

// A daemon error as a result string, thrown.
[[noreturn]] void fail(daemon::Error const& e);
template <class T> T value_of(daemon::Result<T> r)
{
    if (!r)
        fail(r.error());
    return std::move(r.value());
}
inline void check(daemon::Status st)
{
    if (!st)
        fail(st.error());
}

} // namespace seedbox::rpc::transmission
