#include "rpc/brake.h"

#include <boost/asio/ip/address.hpp>
#include <spdlog/spdlog.h>

namespace seedbox::rpc {

AuthBrake::AuthBrake(Options options, std::function<void()> on_failure)
    : options_(options), on_failure_(std::move(on_failure))
{
}

std::string AuthBrake::key_of(std::string const& address)
{
    boost::system::error_code ec;
    auto a = boost::asio::ip::make_address(address, ec);
    if (ec)
        return address;
    if (a.is_v6() && a.to_v6().is_v4_mapped())
        return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a.to_v6()).to_string();
    if (a.is_v6()) {
        auto bytes = a.to_v6().to_bytes();
        std::fill(bytes.begin() + 8, bytes.end(), 0);
        return boost::asio::ip::address_v6(bytes).to_string() + "/64";
    }
    return a.to_string();
}

std::int64_t AuthBrake::retry_after(std::string const& address, Clock::time_point now)
{
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key_of(address));
    if (it == entries_.end() || it->second.blocked_until <= now)
        return 0;
    return std::chrono::ceil<std::chrono::seconds>(it->second.blocked_until - now).count();
}

std::int64_t AuthBrake::failed(std::string const& address, std::string_view how,
                               Clock::time_point now)
{
    if (on_failure_)
        on_failure_();
    auto const key = key_of(address);
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key);
    if (it != entries_.end() && now - it->second.last_failure > options_.forget_after) {
        lru_.erase(it->second.lru);
        entries_.erase(it);
        it = entries_.end();
    }
    if (it == entries_.end()) {
        if (entries_.size() >= options_.max_tracked) {
            entries_.erase(lru_.front());
            lru_.pop_front();
        }
        lru_.push_back(key);
        Entry e;
        e.window_start = now;
        e.next_block = options_.first_block;
        e.lru = std::prev(lru_.end());
        it = entries_.emplace(key, e).first;
    } else {
        lru_.splice(lru_.end(), lru_, it->second.lru);
    }
    auto& e = it->second;
    e.last_failure = now;
    if (now - e.window_start > options_.window) {
        e.window_start = now;
        e.count = 0;
    }
    std::int64_t blocked = 0;
    if (e.blocked_until > now) {
        blocked = std::chrono::ceil<std::chrono::seconds>(e.blocked_until - now).count();
    } else if (++e.count >= options_.failures) {
        e.blocked_until = now + e.next_block;
        blocked = e.next_block.count();
        e.next_block = std::min(e.next_block * 2, options_.max_block);
        e.count = 0;
        e.window_start = now;
    }
    log_failure(key, how, blocked, now);
    return blocked;
}

void AuthBrake::log_failure(std::string const& key, std::string_view how, std::int64_t blocked,
                            Clock::time_point now)
{
    if (now < next_log_) {
        ++unlogged_;
        return;
    }
    next_log_ = now + std::chrono::seconds(1);
    auto const more = std::exchange(unlogged_, 0);
    auto const tail =
        more ? fmt::format(" ({} more wrong tokens since the last line)", more) : std::string();
    if (blocked > 0)
        spdlog::warn("RPC: wrong token from {} ({}); that address is refused for {} s{}", key, how,
                     blocked, tail);
    else
        spdlog::warn("RPC: wrong token from {} ({}){}", key, how, tail);
}

} // namespace seedbox::rpc
