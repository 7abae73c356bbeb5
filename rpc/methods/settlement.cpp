// settlement.*: claimBatch transactions built from kept vouchers (design.md §7). Amounts are
// decimal strings of BTT base units; fee limits are in sun.
#include "daemon/settlement/settlement.h"
#include "ledger/settlement_store.h"
#include "rpc/method.h"
#include "rpc/schema.h"

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

// One batch, with its claims and signed transaction.
json batch_json(ledger::Batch const& b)
{
    auto opt = [](std::optional<std::int64_t> const& v) -> json {
        return v ? json(*v) : json(nullptr);
    };
    json claims = json::array();
    for (auto const& c : b.claims) {
        json j = {{"payer", c.payer},
                  {"cumulative", tron::to_decimal(c.cumulative)},
                  {"previous", tron::to_decimal(c.previous)},
                  {"amount", tron::to_decimal(c.cumulative - c.previous)},
                  {"outcome", c.outcome},
                  {"paid", tron::to_decimal(c.paid)},
                  {"signature", c.signature}};
        claims.push_back(std::move(j));
    }
    json j = {{"id", b.id},
              {"state", ledger::name(b.state)},
              {"mode", b.mode},
              {"txid", b.txid},
              {"owner", b.owner},
              {"hub", b.hub},
              {"chain_id", b.chain_id},
              {"reference_block", {{"number", b.ref_number}, {"id", b.ref_hash}}},
              {"expiration", b.expiration},
              {"fee_limit", b.fee_limit},
              {"energy_estimate", b.energy_estimate},
              {"created", b.created},
              {"updated", b.updated},
              {"broadcasts", b.broadcasts},
              {"block", opt(b.block)},
              {"energy", opt(b.energy)},
              {"fee", opt(b.fee)},
              {"error", b.error},
              {"total", tron::to_decimal(b.total())},
              {"paid", tron::to_decimal(b.paid())},
              {"claim_count", b.claims.size()},
              {"claims", std::move(claims)}};
    j["raw_data_hex"] = b.raw_data_hex;
    j["signature"] = b.signature;
    j["transaction"] = b.signed_hex;
    return j;
}

json batch_schema()
{
    using namespace schema;
    auto const claim = object({{"payer", string()},
                               {"cumulative", amount()},
                               {"previous", amount()},
                               {"amount", amount()},
                               {"outcome", string()},
                               {"paid", amount()},
                               {"signature", string()}});
    return object({{"id", integer()},
                   {"state", {{"type", "string"}, {"enum", ledger::Batch::states()}}},
                   {"mode", string()},
                   {"txid", string()},
                   {"owner", string()},
                   {"hub", string()},
                   {"chain_id", integer()},
                   {"reference_block", object({{"number", integer()}, {"id", string()}})},
                   {"expiration", integer()},
                   {"fee_limit", integer()},
                   {"energy_estimate", integer()},
                   {"created", integer()},
                   {"updated", integer()},
                   {"broadcasts", integer()},
                   {"block", or_null(integer())},
                   {"energy", or_null(integer())},
                   {"fee", or_null(integer())},
                   {"error", string()},
                   {"total", amount()},
                   {"paid", amount()},
                   {"claim_count", integer()},
                   {"claims", array(claim)},
                   {"raw_data_hex", string()},
                   {"signature", string()},
                   {"transaction", string()}});
}

json status_schema()
{
    using namespace schema;
    return object({{"mode", string()},
                   {"hub", or_null(string())},
                   {"chain_id", integer()},
                   {"owner", or_null(string())},
                   {"max_claims", integer()},
                   {"min_batch_amount", amount()},
                   {"interval", integer()},
                   {"last_run", or_null(integer())},
                   {"last_check", or_null(integer())},
                   {"next_run", or_null(integer())},
                   {"last_error", or_null(string())},
                   {"claimable", amount()},
                   {"pending", amount()},
                   {"paid", amount()},
                   {"batches", map(integer())}},
                  {{"unavailable", string()}});
}

json status_json(daemon::SettlementStatus const& s)
{
    auto opt = [](auto const& v) { return v ? json(*v) : json(nullptr); };
    auto time = [](std::int64_t t) { return t ? json(t) : json(nullptr); };
    json j = {{"mode", s.mode},
              {"hub", opt(s.hub)},
              {"chain_id", s.chain_id},
              {"owner", opt(s.owner)},
              {"max_claims", s.max_claims},
              {"min_batch_amount", s.min_batch_amount},
              {"interval", s.interval},
              {"last_run", time(s.last_run)},
              {"last_check", time(s.last_check)},
              {"next_run", time(s.next_run)},
              {"last_error", s.last_error.empty() ? json(nullptr) : json(s.last_error)},
              {"claimable", tron::to_decimal(s.claimable)},
              {"pending", tron::to_decimal(s.pending)},
              {"paid", tron::to_decimal(s.paid)},
              {"batches", s.batches}};
    if (s.unavailable)
        j["unavailable"] = *s.unavailable;
    return j;
}

} // namespace

void add_settlement_methods(MethodTable& t)
{
    t.push_back({.name = "settlement.status",
                 .summary =
                     "Mode, hub, what is claimable, pending in batches and paid on chain, and "
                     "batches by state.",
                 .mutates = false,
                 .params = {},
                 .result = status_schema(),
                 .handler = [](Call& c) { return status_json(settlement_of(c).status()); }});
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
         .result = batch_schema(),
         .handler =
             [](Call& c) { return batch_json(unwrap(settlement_of(c).run(reference_of(c)))); },
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
                        ledger::Batch::states())},
         .result = schema::object({{"batches", schema::array(batch_schema())},
                                   {"next_before", schema::or_null(schema::integer())}}),
         .handler = [](Call& c) {
             auto page = settlement_of(c).batches(c.arg<std::int64_t>("limit"),
                                                  c.arg<std::int64_t>("before"),
                                                  c.arg<std::string>("state"));
             json out = json::array();
             for (auto const& b : page.batches)
                 out.push_back(batch_json(b));
             return json{
                 {"batches", std::move(out)},
                 {"next_before", page.next_before ? json(*page.next_before) : json(nullptr)}};
         }});
    t.push_back({.name = "settlement.batch",
                 .summary = "One batch by id, with its claims and signed transaction hex.",
                 .mutates = false,
                 .params = {Param{"id", Type::integer, true, "batch id"}.range(1, INT64_MAX)},
                 .result = batch_schema(),
                 .handler = [](Call& c) {
                     return batch_json(unwrap(settlement_of(c).batch(c.arg<std::int64_t>("id"))));
                 }});
}

} // namespace seedbox::rpc
