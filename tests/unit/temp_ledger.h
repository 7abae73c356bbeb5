// A ledger.db in a fresh temporary directory, removed afterwards; flush() waits for the commit.
#pragma once

#include "ledger/ledger.h"

#include <doctest/doctest.h>
#include <filesystem>
#include <future>
#include <random>

namespace seedbox::ledger {

struct TempLedger {
    std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                ("sbx-ledger-" + std::to_string(std::random_device{}()));
    std::unique_ptr<Ledger> ledger;
    TempLedger()
    {
        std::filesystem::create_directories(dir);
        std::string err;
        ledger = Ledger::open((dir / "ledger.db").string(), err);
        REQUIRE(ledger);
    }
    ~TempLedger()
    {
        ledger.reset();
        std::filesystem::remove_all(dir);
    }
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
