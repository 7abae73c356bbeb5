// Payments (daemon/btt_pay/payments.h) without libtorrent: completions go to an io_context.
#include "daemon/btt_pay/payments.h"
#include "rpc/notification.h"
#include "temp_ledger.h"

#include <boost/asio/io_context.hpp>
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

using seedbox::ledger::TempLedger;
using seedbox::tron::parse_uint256;
using seedbox::tron::to_decimal;
using seedbox::tron::Uint256;

namespace {

using seedbox::daemon::PayIdentity;
using seedbox::daemon::Payments;
using seedbox::daemon::PaymentTerms;
namespace tron = seedbox::tron;

struct PaymentsRig {
    boost::asio::io_context io; // outlives the ledger, whose last completions may post to it
    TempLedger t;
    tron::PrivateKey key = tron::PrivateKey::generate();
    tron::Address hub = tron::PrivateKey::generate().address();
    std::vector<std::pair<std::string, nlohmann::json>> events;
    std::shared_ptr<Payments> pay;

    explicit PaymentsRig(PaymentTerms terms)
    {
        auto id = std::make_shared<PayIdentity const>(
            PayIdentity{key, key.address(), 728126428, hub, to_decimal(terms.price)});
        pay = std::make_shared<Payments>(
            *t.ledger, id, terms, [this](seedbox::daemon::EventPayload p) {
                // The params as subscribers get them.
                auto note = nlohmann::json::parse(seedbox::rpc::notification_text(p));
                events.emplace_back(name(event_of(p)), std::move(note["params"]));
            });
        pay->attach(io);
    }
    // Lets ledger commits land and their completions run.
    void settle()
    {
        t.ledger->sync();
        io.restart();
        io.poll();
    }
};

} // namespace

TEST_CASE("payer: vouchers pay the own count at the bid, carry remainders, stop at budget")
{
    PaymentTerms terms;
    terms.pay = true;
    terms.max_price = *parse_uint256("1000000000000000000");
    terms.budget = *parse_uint256("2500000000000000000");
    PaymentsRig r(terms);
    auto provider = tron::PrivateKey::generate().address();
    auto const bid = terms.max_price;
    auto const low_bid = *parse_uint256("300000000000000001");
    std::vector<Uint256> sent;
    auto send = [&](Uint256 const& c, tron::Signature const& sig) {
        tron::VoucherSigner signer({728126428, r.hub});
        CHECK(signer.verify(r.key.address(), provider, c, sig, 0) ==
              tron::VoucherSigner::Check::ok);
        sent.push_back(c);
    };
    // 1000 bytes at a low bid, then 2000 bytes after a raise: each priced as it arrived, and the
    // carry makes the sum exact.
    r.pay->downloaded(provider, 1000, low_bid);
    r.pay->maybe_issue(provider, "t", true, send);
    r.settle();
    r.pay->downloaded(provider, 2000, bid);
    r.pay->maybe_issue(provider, "t", true, send);
    r.settle();
    REQUIRE(sent.size() == 2);
    CHECK(sent[1] == (Uint256(1000) * low_bid + Uint256(2000) * bid) / (Uint256(1) << 30));
    auto issued = r.t.ledger->balances(86400).issued.at(provider.base58()).voucher;
    CHECK(issued.cumulative == sent[1]);
    CHECK(issued.bid == bid);
    CHECK(r.t.ledger->vouchers("issued", 10, "").issued->rows.at(0).voucher.bid == bid);
    // 3 GiB more would be 3 BTT: the budget (2.5 BTT in all) caps it, then nothing more is paid.
    r.pay->downloaded(provider, 3LL << 30, bid);
    r.pay->maybe_issue(provider, "t", true, send);
    r.settle();
    REQUIRE(sent.size() == 3);
    CHECK(sent[2] == terms.budget);
    r.pay->downloaded(provider, 1 << 20, bid);
    r.pay->maybe_issue(provider, "t", true, send);
    r.settle();
    CHECK(sent.size() == 3);
    CHECK(r.t.ledger->summary().paid_out == terms.budget);
    CHECK(r.events.size() == 3);
}

TEST_CASE("provider: keeps increasing vouchers by the payer, refuses the rest before touching disk")
{
    PaymentTerms terms;
    terms.price = *parse_uint256("1000000000000000000");
    PaymentsRig r(terms);
    auto payer = tron::PrivateKey::generate();
    tron::VoucherSigner ours({728126428, r.hub});
    tron::VoucherSigner other_chain({1, r.hub});
    std::vector<std::string> replies;
    auto reply = [&](std::string const& reason, Uint256 const& kept) {
        replies.push_back(reason.empty() ? "ack " + to_decimal(kept) : reason);
    };
    auto sig = [](tron::Signature const& s) { return tron::ByteView(s.data(), s.size()); };
    auto good = ours.sign(payer, r.key.address(), 100);
    r.pay->receive(payer.address(), "100", sig(good), "t", terms.price * 2, reply);
    r.settle();
    r.pay->receive(payer.address(), "100", sig(good), "t", terms.price, reply); // replay
    r.pay->receive(payer.address(), "150", sig(other_chain.sign(payer, r.key.address(), 150)), "t",
                   terms.price, reply);
    r.pay->receive(payer.address(), "150",
                   sig(ours.sign(tron::PrivateKey::generate(), r.key.address(), 150)), "t",
                   terms.price, reply); // another key
    r.pay->receive(payer.address(), "1e3", sig(good), "t", terms.price, reply);
    r.settle();
    REQUIRE(replies.size() == 5);
    CHECK(replies[0] == "ack 100");
    CHECK(replies[1].find("not above") != std::string::npos);
    CHECK(replies[2].find("not the payer's") != std::string::npos);
    CHECK(replies[3].find("not the payer's") != std::string::npos);
    CHECK(replies[4] == "malformed voucher");
    auto kept = r.t.ledger->vouchers("received", 10, "").received->rows;
    REQUIRE(kept.size() == 1);
    CHECK(to_decimal(kept[0].voucher.cumulative) == "100");
    CHECK(kept[0].voucher.bid == terms.price * 2);
    CHECK(r.t.ledger->journal(10, 0).rows.at(0).price_per_gib == to_decimal(terms.price * 2));
    CHECK(to_decimal(r.t.ledger->summary().vouchered) == "100");
    CHECK(r.t.ledger->verify().ok());
}

TEST_CASE("provider: a free peer's line is per torrent and IP across connections, and a window")
{
    PaymentTerms terms;
    terms.price = Uint256(1) << 30; // one base unit per byte
    terms.credit_line = 1000;
    terms.credit_window = 3600;
    PaymentsRig r(terms);
    auto& pay = *r.pay;

    // Two connections from one IP share the line; another IP or torrent has its own.
    pay.uploaded_free("t1", "10.0.0.1", 600);
    CHECK_FALSE(pay.over_credit_line("t1", "10.0.0.1"));
    pay.uploaded_free("t1", "10.0.0.1", 401);
    CHECK(pay.over_credit_line("t1", "10.0.0.1"));
    CHECK(pay.free_bytes("t1", "10.0.0.1") == 1001);
    CHECK_FALSE(pay.over_credit_line("t1", "10.0.0.2"));
    CHECK_FALSE(pay.over_credit_line("t2", "10.0.0.1"));

    // What ledger.db held at start-up: a count inside the window stays, one older starts over.
    auto now = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    seedbox::ledger::Balances b;
    b.free_use[{"t1", "10.0.0.3"}] = {5000, now - 3000};
    b.free_use[{"t1", "10.0.0.4"}] = {5000, now - 3601};
    pay.load(b);
    CHECK(pay.over_credit_line("t1", "10.0.0.3"));
    CHECK_FALSE(pay.over_credit_line("t1", "10.0.0.4"));
    CHECK(pay.free_bytes("t1", "10.0.0.4") == 0);
}

TEST_CASE("provider: payers from one IP share a line, and fresh addresses do not get fresh lines")
{
    PaymentTerms terms;
    terms.price = Uint256(1) << 30; // one base unit per byte
    terms.credit_line = 1000;
    PaymentsRig r(terms);
    auto& pay = *r.pay;
    auto a = tron::PrivateKey::generate().address(), b = tron::PrivateKey::generate().address();
    auto c = tron::PrivateKey::generate().address();

    // Each within its own line, over it together: both are over, on that IP only.
    pay.join("10.0.0.1", a);
    pay.uploaded(a, 600, terms.price);
    pay.join("10.0.0.1", b);
    CHECK_FALSE(pay.over_credit_line(b, "10.0.0.1"));
    pay.uploaded(b, 401, terms.price);
    CHECK_FALSE(pay.over_credit_line(a));
    CHECK_FALSE(pay.over_credit_line(b));
    CHECK(pay.over_credit_line(a, "10.0.0.1"));
    CHECK(pay.over_credit_line(b, "10.0.0.1"));
    CHECK(pay.unpaid(b, "10.0.0.1") == 1001);
    pay.join("10.0.0.2", c);
    CHECK_FALSE(pay.over_credit_line(c, "10.0.0.2"));

    // A new address from the IP joins the debt at once.
    auto fresh = tron::PrivateKey::generate().address();
    pay.join("10.0.0.1", fresh);
    CHECK(pay.over_credit_line(fresh, "10.0.0.1"));

    // One address more than kMaxPayersPerIp from one IP gets no credit.
    for (std::size_t i = 0; i < Payments::kMaxPayersPerIp; ++i)
        pay.join("10.0.0.9", tron::PrivateKey::generate().address());
    auto extra = tron::PrivateKey::generate().address();
    pay.join("10.0.0.9", extra);
    CHECK(pay.over_credit_line(extra, "10.0.0.9"));
    CHECK_FALSE(pay.over_credit_line(extra, "10.0.0.10"));
}

TEST_CASE("payer: the cheapest rate paid per torrent follows the connections we pay on")
{
    PaymentsRig r(PaymentTerms{});
    auto& pay = *r.pay;
    CHECK_FALSE(pay.cheapest_paid("t1").has_value());
    pay.start_paying("t1", 30);
    pay.start_paying("t1", 20);
    pay.start_paying("t1", 20);
    pay.start_paying("t2", 5);
    CHECK(pay.cheapest_paid("t1") == Uint256(20));
    pay.stop_paying("t1", 20);
    CHECK(pay.cheapest_paid("t1") == Uint256(20)); // two connections at 20
    pay.stop_paying("t1", 20);
    CHECK(pay.cheapest_paid("t1") == Uint256(30));
    pay.stop_paying("t1", 30);
    pay.stop_paying("t1", 30); // a second stop changes nothing
    CHECK_FALSE(pay.cheapest_paid("t1").has_value());
    CHECK(pay.cheapest_paid("t2") == Uint256(5));
}

TEST_CASE("provider: ledger.db rebuilds free peers' counts within the window, per torrent and IP")
{
    TempLedger t;
    auto delta = [](std::string ip, std::string client, std::int64_t up, std::int64_t down) {
        seedbox::ledger::Delta d;
        d.torrent = "t1", d.ip = std::move(ip), d.client = std::move(client);
        d.up = up, d.down = down;
        return d;
    };
    std::vector deltas{delta("10.0.0.1", "a", 100, 0), delta("10.0.0.1", "b", 50, 0),
                       delta("10.0.0.2", "c", 0, 70)}; // nothing sent to 10.0.0.2
    t.ledger->flush(deltas, 1);
    t.ledger->sync();
    auto b = t.ledger->balances(3600);
    REQUIRE(b.free_use.size() == 1);
    CHECK(b.free_use.at({"t1", "10.0.0.1"}).bytes == 150);
}
