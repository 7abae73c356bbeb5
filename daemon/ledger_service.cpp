#include "daemon/ledger_service.h"

#include <spdlog/spdlog.h>

namespace seedbox::daemon {

LedgerService::LedgerService(boost::asio::io_context& io, ledger::Ledger& ledger,
                             std::shared_ptr<Accounting> accounting, tron::Uint256 price_per_gib,
                             std::chrono::seconds interval, EventHub& events)
    : timer_(io), ledger_(ledger), accounting_(std::move(accounting)), price_(price_per_gib),
      interval_(interval), events_(events)
{
}

void LedgerService::start()
{
    schedule();
}

void LedgerService::stop()
{
    timer_.cancel();
}

void LedgerService::schedule()
{
    timer_.expires_after(interval_);
    timer_.async_wait([this](boost::system::error_code ec) {
        if (ec)
            return;
        flush();
        schedule();
    });
}

void LedgerService::flush()
{
    if (!accounting_)
        return; // ledger.accounting is off
    auto deltas = accounting_->take();
    if (deltas.empty())
        return;
    ledger_.flush(
        std::move(deltas), price_, [this](std::string const& err, ledger::FlushSummary const& s) {
            if (!err.empty()) {
                spdlog::error("ledger flush failed (counts kept in the journal so far "
                              "are intact): {}",
                              err);
                return;
            }
            events_.publish(LedgerCredited{.flush = s.flush,
                                           .counterparties = static_cast<std::int64_t>(s.rows),
                                           .bytes_up = s.bytes_up,
                                           .bytes_down = s.bytes_down,
                                           .credits = s.credits});
        });
}

void LedgerService::final_flush()
{
    auto deltas = accounting_ ? accounting_->take() : std::vector<ledger::Delta>{};
    if (!deltas.empty())
        ledger_.flush(std::move(deltas), price_);
    ledger_.sync();
    spdlog::info("ledger flushed");
}

} // namespace seedbox::daemon
