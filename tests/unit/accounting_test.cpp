#include "ledger/ledger.h"
#include "temp_ledger.h"

#include <algorithm>
#include <doctest/doctest.h>
#include <filesystem>
#include <future>
#include <random>

using namespace seedbox::ledger;
using seedbox::tron::parse_uint256;
using seedbox::tron::to_decimal;
using seedbox::tron::Uint256;
namespace fs = std::filesystem;

namespace {

std::string const kAddr = "TXw5HvuhqSzSp8HzNL68SyrBNAX8J61Z7B";

} // namespace

TEST_CASE("credit rounds down and carries the remainder so nothing is lost")
{
    Uint256 carry = 0;
    Uint256 price = 3;
    Uint256 total = 0;
    std::int64_t bytes = 0;
    for (std::int64_t chunk : {1LL << 29, 1LL << 29, 12345LL, (1LL << 30) - 12345, 7LL}) {
        total += Ledger::credit(chunk, price, carry);
        bytes += chunk;
    }
    // Exactly floor(total bytes * price / 2^30), however the bytes were split.
    CHECK(total == Uint256(static_cast<std::uint64_t>(bytes)) * price / (Uint256(1) << 30));
    CHECK(total + carry / (Uint256(1) << 30) == total);
    CHECK(carry == (Uint256(static_cast<std::uint64_t>(bytes)) * price) % (Uint256(1) << 30));
    Uint256 c2 = 0;
    auto huge = *parse_uint256("1000000000000000000000"); // 1000 BTT per GiB
    CHECK(to_decimal(Ledger::credit(1LL << 30, huge, c2)) == "1000000000000000000000");
}

TEST_CASE("flush journals every peer, and only authenticated addresses are credited")
{
    TempLedger t;
    auto price = *parse_uint256("1000000000000000000"); // 1 BTT per GiB
    auto s = t.flush({{"aa", "127.0.0.2", "libtorrent", "", 1 << 20, 5, {}},
                      {"aa", "127.0.0.3", "", kAddr, 1 << 29, 0, {}}},
                     price);
    CHECK(s.rows == 2);
    CHECK(s.bytes_up == (1 << 20) + (1 << 29));
    CHECK(to_decimal(s.credits) == "500000000000000000");
    t.flush({{"bb", "127.0.0.9", "", kAddr, 1 << 29, 0, {}}}, price); // same address, other torrent
    auto sum = t.ledger->summary();
    CHECK(sum.bytes_up == (1 << 20) + (1 << 30));
    CHECK(to_decimal(sum.credits_accrued) == "1000000000000000000");
    CHECK(sum.flushes == 2);
    auto peers = t.ledger->peers(10, 0, "credits").rows;
    REQUIRE(peers.size() == 2); // the address is one counterparty across torrents
    CHECK(peers[0].address == kAddr);
    CHECK(to_decimal(peers[0].credits) == "1000000000000000000");
    CHECK(peers[1].address.empty()); // anonymous
    CHECK(peers[1].ip == "127.0.0.2");
    CHECK(to_decimal(peers[1].credits) == "0");
    auto j = t.ledger->journal(2, 0);
    CHECK(j.rows.size() == 2);
    REQUIRE(j.next);
    CHECK(*j.next == j.rows[1].id);
    CHECK(t.ledger->journal(10, *j.next).rows.size() == 1);
    auto v = t.ledger->verify();
    CHECK(v.ok());
    CHECK(v.journal_rows == 3);
}

TEST_CASE("the journal is append-only and verify catches tampering")
{
    TempLedger t;
    t.flush({{"aa", "", "", kAddr, 1000, 0, {}}}, 1u << 20);
    auto path = (t.dir / "ledger.db").string();
    Db db;
    REQUIRE(db.open(path, "FULL").empty());
    CHECK(db.exec("UPDATE journal SET amount = '999'").find("append-only") != std::string::npos);
    CHECK(db.exec("DELETE FROM journal").find("append-only") != std::string::npos);
    // A forged row (INSERT is the one thing the triggers allow) is caught by the replay: its
    // amount and its carried remainder disagree with bytes x price.
    REQUIRE(db.exec("INSERT INTO journal (flush, counterparty, torrent, kind, bytes_up, price, "
                    "amount, carry) VALUES (1, 1, 'aa', 'accrued', 1000, '1048576', '5', '7')")
                .empty());
    auto v = t.ledger->verify();
    CHECK_FALSE(v.ok());
    auto found = [&v](std::string const& what) {
        return std::ranges::any_of(v.violations, [&what](std::string const& s) {
            return s.find(what) != std::string::npos;
        });
    };
    CHECK(found("bytes x price"));
    CHECK(found("carried remainder"));
}
