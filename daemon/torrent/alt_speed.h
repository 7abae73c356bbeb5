// The alternative ("turtle") speed schedule, as Transmission's alt-speed-time-*: a window of
// minutes after local midnight on chosen days of the week.
#pragma once

#include "config/settings.h"

namespace seedbox::daemon {

// Whether minute `minute` (0..1439 after local midnight) of weekday `weekday` (0 Sunday .. 6
// Saturday) falls inside the schedule's window. A window whose end is before its begin runs past
// midnight and belongs to the day it began on; begin == end is an empty window.
[[nodiscard]] bool in_alt_speed_window(config::BtConfig const& bt, int weekday, int minute);

} // namespace seedbox::daemon
