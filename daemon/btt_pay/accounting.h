// Accounting: where the btt_pay peer plugin leaves per-peer byte counts for the ledger. add() runs
// on libtorrent's network thread and take() on the io thread; both hold the mutex only to merge or
// swap a map, never across I/O.
#pragma once

#include "ledger/ledger.h"

#include <map>
#include <mutex>
#include <tuple>

namespace seedbox::daemon {

class Accounting {
public:
    void add(ledger::Delta const& d);
    [[nodiscard]] std::vector<ledger::Delta> take();

private:
    // (torrent, ip, client, address, price): bytes at different prices stay apart.
    using Key = std::tuple<std::string, std::string, std::string, std::string, std::string>;
    std::mutex mutex_;
    std::map<Key, ledger::Delta> pending_;
};

} // namespace seedbox::daemon
