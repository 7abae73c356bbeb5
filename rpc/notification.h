// The JSON-RPC notification of an event payload, as its row of the event table
// (rpc/methods/events.cpp) describes it: the serializer the daemon's EventHub is built with.
#pragma once

#include "daemon/base/events.h"

#include <string>

namespace seedbox::rpc {

[[nodiscard]] std::string notification_text(daemon::EventPayload const& payload);

} // namespace seedbox::rpc
