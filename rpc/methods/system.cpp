// system.*, rpc.discover and auth.login.
#include "daemon/torrent/engine.h"
#include "ledger/db.h"
#include "rpc/auth.h"
#include "rpc/brake.h"
#include "rpc/method.h"
#include "rpc/schema.h"

#include <boost/version.hpp>
#include <chrono>
#include <mutex>
#include <openssl/opensslv.h>

namespace seedbox::rpc {

// The rpc.* and system methods. Long because it is a table: one entry per method.
void add_system_methods(MethodTable& t)
{
    using namespace schema;
    t.push_back({.name = "system.version",
                 .summary = "Versions of seedboxd and the libraries it runs on.",
                 .mutates = false,
                 .params = {},
                 .result = object({{"version", string()},
                                   {"api", string()},
                                   {"libtorrent", string()},
                                   {"boost", string()},
                                   {"sqlite", string()},
                                   {"openssl", string()},
                                   {"uptime", integer()}}),
                 .handler = [](Call& c) {
                     auto now = std::chrono::duration_cast<std::chrono::seconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count();
                     return json{{"version", SEEDBOXD_VERSION},
                                 {"api", "1"},
                                 {"libtorrent", daemon::libtorrent_version()},
                                 {"boost", BOOST_LIB_VERSION},
                                 {"sqlite", ledger::sqlite_version()},
                                 {"openssl", OPENSSL_VERSION_TEXT},
                                 {"uptime", now - c.ctx().started_time}};
                 }});
    t.push_back({.name = "system.methods",
                 .summary = "Names of every method.",
                 .mutates = false,
                 .params = {},
                 .result = object({{"methods", array(string())}}),
                 .handler = [](Call& c) {
                     json names = json::array();
                     for (auto const& m : *c.ctx().methods)
                         names.push_back(m.name);
                     return json{{"methods", names}};
                 }});
    t.push_back({.name = "rpc.discover",
                 .summary = "OpenRPC document describing every method.",
                 .mutates = false,
                 .params = {},
                 .result = object({{"openrpc", string()},
                                   {"info", type("object")},
                                   {"methods", array(type("object"))},
                                   {"components", object({{"errors", map(type("object"))},
                                                          {"x-events", map(type("object"))}})}}),
                 .handler = [](Call& c) {
                     // Built once per method table: the document is large and never changes.
                     static std::mutex mutex;
                     static MethodTable const* built_for = nullptr;
                     static json document;
                     std::lock_guard lock(mutex);
                     if (built_for != c.ctx().methods) {
                         document = openrpc_document(*c.ctx().methods);
                         built_for = c.ctx().methods;
                     }
                     return document;
                 }});
    Method login{.name = "auth.login",
                 .summary =
                     "Authenticate a WebSocket that could not send an Authorization header. Three "
                     "wrong tokens close the connection; too many from one address brake it.",
                 .mutates = false,
                 .params = {{"token", Type::string, true, "the RPC token"}},
                 .result = object({{"authenticated", boolean()}}),
                 .handler =
                     [](Call& c) {
                         auto& conn = c.connection();
                         auto* brake = c.ctx().brake;
                         auto const address = conn.remote_address();
                         if (brake)
                             if (auto wait = brake->retry_after(address); wait > 0)
                                 throw RpcError(Err::too_many_failures,
                                                "Unauthorized: too many wrong tokens from this "
                                                "address; retry in " +
                                                    std::to_string(wait) + " s");
                         if (!token_equal(c.arg<std::string>("token"), c.ctx().token)) {
                             if (brake)
                                 brake->failed(address, "auth.login");
                             conn.login_failed();
                             throw RpcError(Err::unauthorized, "Unauthorized: wrong token");
                         }
                         conn.set_authenticated();
                         return json{{"authenticated", true}};
                     },
                 .websocket_only = true,
                 .public_method = true};
    t.push_back(std::move(login));
}

MethodTable build_method_table()
{
    MethodTable t;
    add_system_methods(t);
    add_session_methods(t);
    add_blocklist_methods(t);
    add_label_methods(t);
    add_torrent_methods(t);
    add_event_methods(t);
    add_wallet_methods(t);
    add_ledger_methods(t);
    add_settlement_methods(t);
    return t;
}

} // namespace seedbox::rpc
