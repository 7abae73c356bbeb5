// ledger.*: what the incentive ledger has recorded. Reads only; amounts are decimal strings of
// BTT base units (18 decimals).
#include "ledger/ledger.h"
#include "rpc/method.h"

namespace seedbox::rpc {

namespace {

ledger::Ledger& ledger_of(Call& c)
{
    if (!c.ctx().ledger)
        throw RpcError(kInternalError, "internal_error", "the ledger is not open");
    return *c.ctx().ledger;
}

std::int64_t limit_of(Call& c)
{
    auto limit = c.arg<std::int64_t>("limit", 100);
    if (limit < 1 || limit > 10000)
        throw RpcError(kInvalidParams, "invalid_params", "Invalid params: limit must be 1..10000");
    return limit;
}

} // namespace

void add_ledger_methods(MethodTable& t)
{
    json const obj = {{"type", "object"}};
    t.push_back({"ledger.summary",
                 "Bytes up/down, credits accrued, vouchered and unpaid, in total and by torrent.",
                 false,
                 {},
                 obj,
                 [](Call& c) { return ledger_of(c).summary(); }});
    t.push_back(
        {"ledger.peers",
         "Per counterparty (TRON address, or anonymous torrent/IP/client): bytes, credits, "
         "latest voucher, unpaid.",
         false,
         {{"limit", Type::integer, false, "page size (default 100)"},
          {"after", Type::integer, false, "id of the last counterparty of the previous page"},
          {"sort", Type::string, false,
           "bytes_up (default), bytes_down, credits, last_seen or id"}},
         obj,
         [](Call& c) {
             auto sort = c.arg<std::string>("sort", "bytes_up");
             if (sort != "bytes_up" && sort != "bytes_down" && sort != "credits" &&
                 sort != "last_seen" && sort != "id")
                 throw RpcError(kInvalidParams, "invalid_params",
                                "Invalid params: sort must be bytes_up, bytes_down, "
                                "credits, last_seen or id");
             return ledger_of(c).peers(limit_of(c), c.arg<std::int64_t>("after"), sort);
         }});
    t.push_back(
        {"ledger.journal",
         "The append-only journal, oldest first.",
         false,
         {{"limit", Type::integer, false, "page size (default 100)"},
          {"after", Type::integer, false, "id of the last entry of the previous page"}},
         obj,
         [](Call& c) { return ledger_of(c).journal(limit_of(c), c.arg<std::int64_t>("after")); }});
    t.push_back(
        {"ledger.vouchers",
         "Payment vouchers: the highest kept per payer (received) and our newest per provider "
         "(issued), with signatures.",
         false,
         {{"direction", Type::string, false, "received, issued, or both when absent"},
          {"limit", Type::integer, false, "page size per direction (default 100)"},
          {"after", Type::string, false, "last address of the previous page"}},
         obj,
         [](Call& c) {
             auto dir = c.arg<std::string>("direction", "");
             if (!dir.empty() && dir != "received" && dir != "issued")
                 throw RpcError(kInvalidParams, "invalid_params",
                                "Invalid params: direction must be received or issued");
             return ledger_of(c).vouchers(dir, limit_of(c), c.arg<std::string>("after", ""));
         }});
    t.push_back({"ledger.verify",
                 "Replay the journal and check every stored amount and remainder against it.",
                 false,
                 {},
                 obj,
                 [](Call& c) { return ledger_of(c).verify(); }});
}

} // namespace seedbox::rpc
