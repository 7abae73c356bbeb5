// events.subscribe / events.unsubscribe (WebSocket only).
#include "daemon/base/events.h"
#include "rpc/method.h"
#include "rpc/schema.h"

namespace seedbox::rpc {

namespace {

// The dispatcher has already refused names outside EventHub::names() (the param's choices).
std::vector<std::string> pick(Call& c)
{
    if (!c.has("events"))
        return daemon::EventHub::names();
    return c.arg<std::vector<std::string>>("events");
}

// events.subscribe (add) and events.unsubscribe: the same param, result and handler.
Method subscription(std::string name, std::string summary, bool add)
{
    using namespace schema;
    return {
        .name = std::move(name),
        .summary = std::move(summary),
        .params = {Param{"events", Type::string_array, false, "event names (default: all)"}.one_of(
            daemon::EventHub::names())},
        .result = object({{"events", array(string())}}),
        .handler =
            [add](Call& c) {
                auto events = pick(c);
                c.connection().subscribe(events, add);
                return json{{"events", events}};
            },
        .websocket_only = true};
}

} // namespace

void add_event_methods(MethodTable& t)
{
    t.push_back(subscription("events.subscribe",
                             "Receive notifications on this WebSocket (default: all events).",
                             true));
    t.push_back(
        subscription("events.unsubscribe", "Stop receiving notifications (default: all).", false));
}

} // namespace seedbox::rpc
