// settlement.*: claimBatch transactions built from kept vouchers (design.md §7). Amounts are
// decimal strings of BTT base units; fee limits are in sun.
#include "daemon/settlement/settlement.h"
#include "rpc/method.h"

namespace seedbox::rpc {

daemon::Settlement& settlement_of(Call& c)
{
    if (!c.ctx().settlement)
        throw RpcError(kInternalError, "internal_error", "settlement is not running");
    return *c.ctx().settlement;
}

namespace {

std::optional<daemon::ReferenceBlock> reference_of(Call& c)
{
    if (!c.has("reference_block"))
        return std::nullopt;
    auto const& r = c.params()["reference_block"];
    auto bad = [] {
        return RpcError(kInvalidParams, "invalid_params",
                        "Invalid params: reference_block must be {number: integer, id: 64 hex "
                        "digits, timestamp: Unix ms}");
    };
    if (!r.is_object() || !r.contains("number") || !r["number"].is_number_integer() ||
        !r.contains("id") || !r["id"].is_string() || !r.contains("timestamp") ||
        !r["timestamp"].is_number_integer())
        throw bad();
    return daemon::ReferenceBlock{r["number"].get<std::int64_t>(), r["id"].get<std::string>(),
                                  r["timestamp"].get<std::int64_t>()};
}

} // namespace

void add_settlement_methods(MethodTable& t)
{
    json const obj = {{"type", "object"}};
    t.push_back({"settlement.status",
                 "Mode, hub, what is claimable, pending in batches and paid on chain, and "
                 "batches by state.",
                 false,
                 {},
                 obj,
                 [](Call& c) { return settlement_of(c).status(); }});
    t.push_back(
        {"settlement.run",
         "Builds and signs one claimBatch now from the kept vouchers above what is paid or "
         "pending, and stores it before anything else. Offline mode needs the reference block.",
         true,
         {{"reference_block", Type::object, false,
           "{number, id, timestamp} of a recent solidified block (offline mode)"}},
         obj,
         [](Call& c) { return unwrap(settlement_of(c).run(reference_of(c))); }});
    t.push_back({"settlement.batches",
                 "Batches, newest first, with their claims and signed transaction hex.",
                 false,
                 {{"limit", Type::integer, false, "page size (default 20, at most 500)"},
                  {"before", Type::integer, false, "id of the last batch of the previous page"},
                  {"state", Type::string, false,
                   "only batches in this state (built, broadcast, included, final, reverted, "
                   "expired)"}},
                 obj,
                 [](Call& c) {
                     auto limit = c.arg<std::int64_t>("limit", 20);
                     if (limit < 1 || limit > 500)
                         throw RpcError(kInvalidParams, "invalid_params",
                                        "Invalid params: limit must be 1..500");
                     return settlement_of(c).batches(limit, c.arg<std::int64_t>("before"),
                                                     c.arg<std::string>("state"));
                 }});
    t.push_back(
        {"settlement.batch",
         "One batch by id, with its claims and signed transaction hex.",
         false,
         {{"id", Type::integer, true, "batch id"}},
         obj,
         [](Call& c) { return unwrap(settlement_of(c).batch(c.arg<std::int64_t>("id"))); }});
}

} // namespace seedbox::rpc
