// Moves per-peer byte counts from Accounting into ledger.db: one transaction every
// ledger.flush_interval seconds (a crash loses at most one interval), and a final flush at
// shutdown. Publishes ledger.credited after each flush that recorded something. Io thread.
#pragma once

#include "daemon/base/events.h"
#include "daemon/btt_pay/accounting.h"

#include <boost/asio/steady_timer.hpp>

namespace seedbox::daemon {

class LedgerService {
public:
    LedgerService(boost::asio::io_context& io, ledger::Ledger& ledger,
                  std::shared_ptr<Accounting> accounting, tron::Uint256 price_per_gib,
                  std::chrono::seconds interval, EventHub& events);

    void start();
    void stop();
    // Takes what is pending and commits it; blocks until committed (use after io has stopped).
    void final_flush();

private:
    void schedule();
    void flush();

    boost::asio::steady_timer timer_;
    ledger::Ledger& ledger_;
    std::shared_ptr<Accounting> accounting_;
    tron::Uint256 price_;
    std::chrono::seconds interval_;
    EventHub& events_;
};

} // namespace seedbox::daemon
