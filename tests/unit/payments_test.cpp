// Payments (daemon/btt_pay/payments.h) without libtorrent: completions go to an io_context.
#include "daemon/btt_pay/payments.h"
#include "temp_ledger.h"

#include <boost/asio/io_context.hpp>
#include <doctest/doctest.h>

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
        pay = std::make_shared<Payments>(*t.ledger, id, terms,
                                         [this](std::string m, nlohmann::json p) {
                                             events.emplace_back(std::move(m), std::move(p));
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

TEST_CASE("payer: vouchers pay the own count at min(price, cap), carry remainders, stop at budget")
{
    PaymentTerms terms;
    terms.pay = true;
    terms.max_price = *parse_uint256("1000000000000000000");
    terms.budget = *parse_uint256("2500000000000000000");
    PaymentsRig r(terms);
    auto provider = tron::PrivateKey::generate().address();
    auto const dear = *parse_uint256("5000000000000000000"); // above the cap
    std::vector<Uint256> sent;
    auto send = [&](Uint256 const& c, tron::Signature const& sig) {
        tron::VoucherSigner signer({728126428, r.hub});
        CHECK(signer.verify(r.key.address(), provider, c, sig, 0) ==
              tron::VoucherSigner::Check::ok);
        sent.push_back(c);
    };
    // 1000 bytes and 2000 bytes at the capped price: the carry makes the sum exact.
    r.pay->downloaded(provider, 1000);
    r.pay->maybe_issue(provider, dear, "t", true, send);
    r.settle();
    r.pay->downloaded(provider, 2000);
    r.pay->maybe_issue(provider, dear, "t", true, send);
    r.settle();
    REQUIRE(sent.size() == 2);
    CHECK(sent[1] == Uint256(3000) * terms.max_price / (Uint256(1) << 30));
    CHECK(r.t.ledger->balances().issued.at(provider.base58()).voucher.cumulative == sent[1]);
    // 3 GiB more would be 3 BTT: the budget (2.5 BTT in all) caps it, then nothing more is paid.
    r.pay->downloaded(provider, 3LL << 30);
    r.pay->maybe_issue(provider, dear, "t", true, send);
    r.settle();
    REQUIRE(sent.size() == 3);
    CHECK(sent[2] == terms.budget);
    r.pay->downloaded(provider, 1 << 20);
    r.pay->maybe_issue(provider, dear, "t", true, send);
    r.settle();
    CHECK(sent.size() == 3);
    CHECK(r.t.ledger->summary()["paid_out"] == to_decimal(terms.budget));
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
    r.pay->receive(payer.address(), "100", sig(good), "t", reply);
    r.settle();
    r.pay->receive(payer.address(), "100", sig(good), "t", reply); // replay
    r.pay->receive(payer.address(), "150", sig(other_chain.sign(payer, r.key.address(), 150)), "t",
                   reply);
    r.pay->receive(payer.address(), "150",
                   sig(ours.sign(tron::PrivateKey::generate(), r.key.address(), 150)), "t",
                   reply); // another key
    r.pay->receive(payer.address(), "1e3", sig(good), "t", reply);
    r.settle();
    REQUIRE(replies.size() == 5);
    CHECK(replies[0] == "ack 100");
    CHECK(replies[1].find("not above") != std::string::npos);
    CHECK(replies[2].find("not the payer's") != std::string::npos);
    CHECK(replies[3].find("not the payer's") != std::string::npos);
    CHECK(replies[4] == "malformed voucher");
    auto kept = r.t.ledger->vouchers("received", 10, "")["received"];
    REQUIRE(kept.size() == 1);
    CHECK(kept[0]["cumulative"] == "100");
    CHECK(r.t.ledger->summary()["vouchered"] == "100");
    CHECK(r.t.ledger->verify()["ok"] == true);
}
