// Ledger::verify: replays every credit from the journal and checks the stored remainders and
// vouchers against it.
#include "ledger/ledger.h"

#include "ledger/ledger_internal.h"
#include "ledger/tron/voucher.h"

#include <map>
#include <set>

namespace seedbox::ledger {

using detail::kGiB;
using detail::kVoucherColumns;
using detail::voucher_row;
using tron::Uint256;

namespace {

// A stored voucher must recover to its payer under its own domain and beneficiary.
bool voucher_verifies(Voucher const& v)
{
    auto payer = tron::Address::parse(v.payer);
    auto beneficiary = tron::Address::parse(v.beneficiary);
    auto hub = tron::Address::parse(v.hub);
    auto sig = tron::from_hex(v.signature);
    if (!payer || !beneficiary || !hub || !sig)
        return false;
    tron::VoucherSigner signer({v.chain_id, *hub});
    return signer.verify(*payer, *beneficiary, v.cumulative, *sig, 0) ==
           tron::VoucherSigner::Check::ok;
}

void check_vouchers(Db& reader, std::vector<std::string>& violations)
{
    // Provider side: the 'vouchered' journal rows of a payer add up to the voucher kept.
    std::map<std::string, Uint256> journaled;
    auto j = reader.prepare("SELECT j.id, c.address, j.amount FROM journal j JOIN counterparties c "
                            "ON c.id = j.counterparty WHERE j.kind = 'vouchered'");
    while (j.step()) {
        auto amount = tron::parse_uint256(j.column_text(2));
        if (!amount || *amount == 0 || j.column_text(1).empty())
            violations.push_back("journal " + std::to_string(j.column_int(0)) +
                                 ": a vouchered row must name a payer and a positive amount");
        journaled[j.column_text(1)] += amount.value_or(0);
    }
    auto r = reader.prepare(std::string("SELECT ") + kVoucherColumns + " FROM vouchers_received");
    while (r.step()) {
        auto v = voucher_row(r);
        if (!voucher_verifies(v))
            violations.push_back("voucher from " + v.payer + " does not verify");
        if (journaled[v.payer] != v.cumulative)
            violations.push_back("voucher from " + v.payer + ": kept cumulative " +
                                 tron::to_decimal(v.cumulative) + " but the journal adds up to " +
                                 tron::to_decimal(journaled[v.payer]));
        journaled.erase(v.payer);
    }
    for (auto const& [payer, sum] : journaled)
        violations.push_back("journal has vouchered rows for " + payer + " but no voucher is kept");
    // Payer side: every voucher we issued verifies.
    auto i = reader.prepare(std::string("SELECT ") + kVoucherColumns + " FROM vouchers_issued");
    while (i.step()) {
        auto v = voucher_row(i);
        if (!voucher_verifies(v))
            violations.push_back("voucher issued to " + v.beneficiary + " does not verify");
    }
}

} // namespace

VerifyReport Ledger::verify()
{
    std::lock_guard lock(read_mutex_);
    std::vector<std::string> violations;
    std::map<std::int64_t, std::pair<std::string, Uint256>> parties; // id -> address, carry
    auto c = reader_.prepare("SELECT id, address, carry FROM counterparties");
    while (c.step()) {
        auto carry = tron::parse_uint256(c.column_text(2));
        if (!carry || *carry >= kGiB)
            violations.push_back("counterparty " + std::to_string(c.column_int(0)) +
                                 ": stored carry is not a remainder below 2^30");
        parties[c.column_int(0)] = {c.column_text(1), carry.value_or(0)};
    }
    std::map<std::int64_t, Uint256> replayed;
    std::set<std::int64_t> row_carry; // counterparties whose rows record their remainder
    std::int64_t rows = 0;
    auto j = reader_.prepare("SELECT id, counterparty, bytes_up, price, amount, carry FROM journal "
                             "WHERE kind = 'accrued' ORDER BY id");
    while (j.step()) {
        ++rows;
        auto id = j.column_int(0);
        auto who = j.column_int(1);
        auto price = tron::parse_uint256(j.column_text(3));
        auto amount = tron::parse_uint256(j.column_text(4));
        auto where = "journal " + std::to_string(id);
        if (!parties.count(who)) {
            violations.push_back(where + ": unknown counterparty " + std::to_string(who));
            continue;
        }
        if (!price || !amount) {
            violations.push_back(where + ": amount or price is not a uint256");
            continue;
        }
        if (parties[who].first.empty()) {
            if (*amount != 0 || *price != 0)
                violations.push_back(where + ": an anonymous counterparty was credited");
            continue;
        }
        auto expected = credit(j.column_int(2), *price, replayed[who]);
        if (expected != *amount)
            violations.push_back(where + ": amount " + tron::to_decimal(*amount) +
                                 " but bytes x price / 2^30 gives " + tron::to_decimal(expected));
        if (!j.column_null(5)) {
            row_carry.insert(who);
            if (tron::parse_uint256(j.column_text(5)) != replayed[who])
                violations.push_back(where + ": carried remainder " + j.column_text(5) +
                                     " but the replay gives " + tron::to_decimal(replayed[who]));
        }
    }
    for (auto const& [who, p] : parties)
        if (!p.first.empty() && !row_carry.count(who) && replayed[who] != p.second)
            violations.push_back("counterparty " + std::to_string(who) +
                                 ": carried remainder does not match the journal");
    check_vouchers(reader_, violations);
    return {.violations = std::move(violations),
            .journal_rows = rows,
            .counterparties = parties.size()};
}

} // namespace seedbox::ledger
