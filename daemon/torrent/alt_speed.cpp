// The alternative speed schedule: each minute, the schedule's edges turn bt.alt_speed on and off
// (stored like any setting changed over RPC). Between edges a change by hand holds, as in
// Transmission.
#include "daemon/torrent/alt_speed.h"

#include "daemon/torrent/engine_impl.h"

#include <spdlog/spdlog.h>

#include <ctime>

namespace seedbox::daemon {

bool in_alt_speed_window(config::BtConfig const& bt, int weekday, int minute)
{
    auto const begin = bt.alt_speed_begin, end = bt.alt_speed_end;
    auto on_day = [&bt](int day) { return (bt.alt_speed_days >> ((day + 7) % 7) & 1) != 0; };
    if (begin < end)
        return begin <= minute && minute < end && on_day(weekday);
    if (begin > end) {
        if (minute >= begin)
            return on_day(weekday);
        return minute < end && on_day(weekday - 1); // the window began yesterday
    }
    return false;
}

void Engine::Impl::check_alt_schedule(bool force)
{
    if (stopping)
        return;
    config::BtConfig bt;
    {
        std::lock_guard lock(mutex);
        bt = cfg.bt;
    }
    if (!bt.alt_speed_schedule) {
        alt_schedule_state.reset();
        return;
    }
    std::time_t const now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    bool const in = in_alt_speed_window(bt, local.tm_wday, local.tm_hour * 60 + local.tm_min);
    if (!force && alt_schedule_state == in)
        return;
    alt_schedule_state = in;
    if (bt.alt_speed == in)
        return;
    spdlog::info("alternative speed limits {} by the schedule", in ? "on" : "off");
    if (auto st = apply_settings(nlohmann::json{{"alt_speed", in}}, true); !st)
        spdlog::warn("alternative speed schedule: {}", st.error().message);
}

void Engine::Impl::schedule_alt_check()
{
    // Just after the next minute starts: one wakeup a minute.
    auto const now = std::chrono::system_clock::now();
    auto const next = std::chrono::floor<std::chrono::minutes>(now) + std::chrono::minutes(1);
    alt_timer.expires_after(next - now + std::chrono::milliseconds(50));
    alt_timer.async_wait([this](boost::system::error_code ec) {
        if (ec || stopping)
            return;
        check_alt_schedule(false);
        schedule_alt_check();
    });
}

} // namespace seedbox::daemon
