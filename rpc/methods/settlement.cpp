// settlement.*: claimBatch transactions built from kept vouchers (design.md §7). Amounts are
// decimal strings of BTT base units; fee limits are in sun.
#include "daemon/settlement/settlement.h"
#include "rpc/method.h"

namespace seedbox::rpc {

daemon::Settlement& settlement_of(Call& c)
{
    if (!c.ctx().settlement)
        throw RpcError(Err::internal_error, "settlement is not running");
    return *c.ctx().settlement;
}

namespace {

std::optional<daemon::ReferenceBlock> reference_of(Call& c)
{
    if (!c.has("reference_block"))
        return std::nullopt;
    auto const& r = c.params()["reference_block"]; // members checked by the dispatcher
    return daemon::ReferenceBlock{r["number"].get<std::int64_t>(), r["id"].get<std::string>(),
                                  r["timestamp"].get<std::int64_t>()};
}

} // namespace

void add_settlement_methods(MethodTable& t)
{
    json const obj = {{"type", "object"}};
    t.push_back({.name = "settlement.status",
                 .summary =
                     "Mode, hub, what is claimable, pending in batches and paid on chain, and "
                     "batches by state.",
                 .mutates = false,
                 .params = {},
                 .result = obj,
                 .handler = [](Call& c) { return settlement_of(c).status(); }});
    t.push_back(
        {.name = "settlement.run",
         .summary =
             "Builds and signs one claimBatch now from the kept vouchers above what is paid or "
             "pending, and stores it before anything else. Offline mode needs the reference block.",
         .mutates = true,
         .params =
             {Param{"reference_block", Type::object, false,
                    "a recent solidified block (offline mode)"}
                  .of({Param{"number", Type::integer, true, "block number"}.range(0, INT64_MAX),
                       {"id", Type::string, true, "block id, 64 hex digits"},
                       Param{"timestamp", Type::integer, true, "Unix ms"}.range(0, INT64_MAX)})},
         .result = obj,
         .handler = [](Call& c) { return unwrap(settlement_of(c).run(reference_of(c))); },
         .websocket_only = false,
         .public_method = false,
         .runs = Runs::slow}); // broadcast mode reads the chain first
    t.push_back(
        {.name = "settlement.batches",
         .summary = "Batches, newest first, with their claims and signed transaction hex.",
         .mutates = false,
         .params = {Param{"limit", Type::integer, false, "page size"}.range(1, 500).defaults_to(20),
                    Param{"before", Type::integer, false,
                          "id of the last batch of the previous page"}
                        .range(0, INT64_MAX)
                        .defaults_to(0),
                    Param{"state", Type::string, false, "only batches in this state"}.one_of(
                        {"built", "broadcast", "included", "final", "reverted", "expired"})},
         .result = obj,
         .handler = [](Call& c) {
             return settlement_of(c).batches(c.arg<std::int64_t>("limit"),
                                             c.arg<std::int64_t>("before"),
                                             c.arg<std::string>("state"));
         }});
    t.push_back({.name = "settlement.batch",
                 .summary = "One batch by id, with its claims and signed transaction hex.",
                 .mutates = false,
                 .params = {Param{"id", Type::integer, true, "batch id"}.range(1, INT64_MAX)},
                 .result = obj,
                 .handler = [](Call& c) {
                     return unwrap(settlement_of(c).batch(c.arg<std::int64_t>("id")));
                 }});
}

} // namespace seedbox::rpc
