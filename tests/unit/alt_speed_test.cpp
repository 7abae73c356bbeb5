// The alternative speed schedule's window: days, minutes, and windows that run past midnight.
#include "daemon/torrent/alt_speed.h"

#include <doctest/doctest.h>

using seedbox::daemon::in_alt_speed_window;

namespace {

seedbox::config::BtConfig schedule(std::int64_t begin, std::int64_t end, std::int64_t days)
{
    seedbox::config::BtConfig bt;
    bt.alt_speed_begin = begin;
    bt.alt_speed_end = end;
    bt.alt_speed_days = days;
    return bt;
}

constexpr int kSunday = 0, kMonday = 1, kFriday = 5, kSaturday = 6;

} // namespace

TEST_CASE("alt speed: a daytime window on weekdays")
{
    auto bt = schedule(9 * 60, 17 * 60, 62); // Monday..Friday
    CHECK(in_alt_speed_window(bt, kMonday, 9 * 60));
    CHECK(in_alt_speed_window(bt, kFriday, 17 * 60 - 1));
    CHECK_FALSE(in_alt_speed_window(bt, kMonday, 9 * 60 - 1));
    CHECK_FALSE(in_alt_speed_window(bt, kMonday, 17 * 60)); // the end is outside
    CHECK_FALSE(in_alt_speed_window(bt, kSaturday, 12 * 60));
    CHECK_FALSE(in_alt_speed_window(bt, kSunday, 12 * 60));
}

TEST_CASE("alt speed: a night window belongs to the day it began on")
{
    auto bt = schedule(22 * 60, 6 * 60, 1 << kFriday); // Friday 22:00 to Saturday 06:00
    CHECK(in_alt_speed_window(bt, kFriday, 23 * 60));
    CHECK(in_alt_speed_window(bt, kSaturday, 5 * 60 + 59));
    CHECK_FALSE(in_alt_speed_window(bt, kSaturday, 6 * 60));
    CHECK_FALSE(in_alt_speed_window(bt, kSaturday, 23 * 60)); // Saturday's own night is off
    CHECK_FALSE(in_alt_speed_window(bt, kFriday, 5 * 60));    // Thursday's night is off
    auto sat = schedule(22 * 60, 6 * 60, 1 << kSaturday);
    CHECK(in_alt_speed_window(sat, kSunday, 60)); // Saturday's night runs into Sunday
}

TEST_CASE("alt speed: begin equal to end is an empty window")
{
    auto bt = schedule(600, 600, 127);
    for (int m : {0, 599, 600, 601, 1439})
        CHECK_FALSE(in_alt_speed_window(bt, kMonday, m));
}
