// ledger.*: what the incentive ledger has recorded. Reads only; amounts are decimal strings of
// BTT base units (18 decimals).
#include "ledger/ledger.h"
#include "rpc/method.h"

namespace seedbox::rpc {

namespace {

ledger::Ledger& ledger_of(Call& c)
{
    if (!c.ctx().ledger)
        throw RpcError(Err::internal_error, "the ledger is not open");
    return *c.ctx().ledger;
}

Param limit_param(char const* help)
{
    return Param{"limit", Type::integer, false, help}.range(1, 10'000).defaults_to(100);
}

Param after_id_param(char const* help)
{
    return Param{"after", Type::integer, false, help}.range(0, INT64_MAX).defaults_to(0);
}

} // namespace

void add_ledger_methods(MethodTable& t)
{
    json const obj = {{"type", "object"}};
    t.push_back(
        {.name = "ledger.summary",
         .summary =
             "Bytes up/down, credits accrued, vouchered and unpaid, in total and by torrent.",
         .mutates = false,
         .params = {},
         .result = obj,
         .handler = [](Call& c) { return ledger_of(c).summary(); }});
    t.push_back(
        {.name = "ledger.peers",
         .summary =
             "Per counterparty (TRON address, or anonymous torrent/IP/client): bytes, credits, "
             "latest voucher, unpaid.",
         .mutates = false,
         .params = {limit_param("page size"),
                    after_id_param("id of the last counterparty of the previous page"),
                    Param{"sort", Type::string, false, "order, largest first (id: oldest first)"}
                        .one_of({"bytes_up", "bytes_down", "credits", "last_seen", "id"})
                        .defaults_to("bytes_up")},
         .result = obj,
         .handler = [](Call& c) {
             return ledger_of(c).peers(c.arg<std::int64_t>("limit"), c.arg<std::int64_t>("after"),
                                       c.arg<std::string>("sort"));
         }});
    t.push_back({.name = "ledger.journal",
                 .summary = "The append-only journal, oldest first.",
                 .mutates = false,
                 .params = {limit_param("page size"),
                            after_id_param("id of the last entry of the previous page")},
                 .result = obj,
                 .handler = [](Call& c) {
                     return ledger_of(c).journal(c.arg<std::int64_t>("limit"),
                                                 c.arg<std::int64_t>("after"));
                 }});
    t.push_back(
        {.name = "ledger.vouchers",
         .summary =
             "Payment vouchers: the highest kept per payer (received) and our newest per provider "
             "(issued), with signatures.",
         .mutates = false,
         .params = {Param{"direction", Type::string, false, "only this direction (absent: both)"}
                        .one_of({"received", "issued"}),
                    limit_param("page size per direction"),
                    {"after", Type::string, false, "last address of the previous page"}},
         .result = obj,
         .handler = [](Call& c) {
             return ledger_of(c).vouchers(c.arg<std::string>("direction"),
                                          c.arg<std::int64_t>("limit"),
                                          c.arg<std::string>("after"));
         }});
    t.push_back(
        {.name = "ledger.verify",
         .summary = "Replay the journal and check every stored amount and remainder against it.",
         .mutates = false,
         .params = {},
         .result = obj,
         .handler = [](Call& c) { return ledger_of(c).verify(); }});
}

} // namespace seedbox::rpc
