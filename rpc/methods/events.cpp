// events.subscribe / events.unsubscribe (WebSocket only).
#include "daemon/events.h"
#include "rpc/method.h"

namespace seedbox::rpc {

namespace {

std::vector<std::string> pick(Call& c)
{
    auto const& known = daemon::EventHub::names();
    if (!c.has("events"))
        return known;
    auto asked = c.arg<std::vector<std::string>>("events");
    for (auto const& e : asked)
        if (std::find(known.begin(), known.end(), e) == known.end())
            throw RpcError(kInvalidParams, "invalid_params",
                           "Invalid params: events: unknown event \"" + e + "\"");
    return asked;
}

} // namespace

void add_event_methods(MethodTable& t)
{
    json const schema = {
        {"type", "object"},
        {"properties", {{"events", {{"type", "array"}, {"items", {{"type", "string"}}}}}}}};
    Method sub{"events.subscribe",
               "Receive notifications on this WebSocket (default: all events).",
               false,
               {{"events", Type::string_array, false,
                 "torrent.added, torrent.removed, torrent.state_changed, torrent.finished, "
                 "torrent.error, torrent.stats"}},
               schema,
               [](Call& c) {
                   auto events = pick(c);
                   c.connection().subscribe(events, true);
                   return json{{"events", events}};
               }};
    sub.websocket_only = true;
    t.push_back(sub);
    Method unsub{"events.unsubscribe",
                 "Stop receiving notifications (default: all).",
                 false,
                 sub.params,
                 schema,
                 [](Call& c) {
                     auto events = pick(c);
                     c.connection().subscribe(events, false);
                     return json{{"events", events}};
                 }};
    unsub.websocket_only = true;
    t.push_back(unsub);
}

} // namespace seedbox::rpc
