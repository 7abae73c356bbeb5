// events.subscribe / events.unsubscribe (WebSocket only).
#include "daemon/base/events.h"
#include "rpc/method.h"

namespace seedbox::rpc {

namespace {

// The dispatcher has already refused names outside EventHub::names() (the param's choices).
std::vector<std::string> pick(Call& c)
{
    if (!c.has("events"))
        return daemon::EventHub::names();
    return c.arg<std::vector<std::string>>("events");
}

} // namespace

void add_event_methods(MethodTable& t)
{
    json const schema = {
        {"type", "object"},
        {"properties", {{"events", {{"type", "array"}, {"items", {{"type", "string"}}}}}}}};
    Method sub{
        .name = "events.subscribe",
        .summary = "Receive notifications on this WebSocket (default: all events).",
        .mutates = false,
        .params = {Param{"events", Type::string_array, false, "event names (default: all)"}.one_of(
            daemon::EventHub::names())},
        .result = schema,
        .handler =
            [](Call& c) {
                auto events = pick(c);
                c.connection().subscribe(events, true);
                return json{{"events", events}};
            },
        .websocket_only = true};
    t.push_back(sub);
    Method unsub{.name = "events.unsubscribe",
                 .summary = "Stop receiving notifications (default: all).",
                 .mutates = false,
                 .params = sub.params,
                 .result = schema,
                 .handler =
                     [](Call& c) {
                         auto events = pick(c);
                         c.connection().subscribe(events, false);
                         return json{{"events", events}};
                     },
                 .websocket_only = true};
    t.push_back(unsub);
}

} // namespace seedbox::rpc
