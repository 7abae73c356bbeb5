// A ledger.db in a fresh temporary directory, removed afterwards; flush() waits for the commit.
#pragma once

#include "ledger/ledger.h"
#include "temp_dir.h"

#include <doctest/doctest.h>
#include <future>

namespace seedbox::ledger {

struct TempLedger {
    test::TempDir tmp{"sbx-ledger-"};
    std::filesystem::path dir = tmp.path;
    std::unique_ptr<Ledger> ledger;
    TempLedger()
    {
        std::string err;
        ledger = Ledger::open((dir / "ledger.db").string(), err);
        REQUIRE(ledger);
    }
    ~TempLedger() { ledger.reset(); }
    FlushSummary flush(std::vector<Delta> d, tron::Uint256 price)
    {
        std::promise<std::pair<std::string, FlushSummary>> p;
        ledger->flush(std::move(d), price, [&p](std::string const& e, FlushSummary const& s) {
            p.set_value({e, s});
        });
        auto [err, s] = p.get_future().get();
        REQUIRE(err.empty());
        return s;
    }
};

} // namespace seedbox::ledger
