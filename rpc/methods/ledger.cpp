// ledger.*: what the incentive ledger has recorded. Reads only; amounts are decimal strings of
// BTT base units (18 decimals).
#include "ledger/ledger.h"
#include "rpc/method.h"
#include "rpc/schema.h"

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

json ledger_summary_schema()
{
    using namespace schema;
    return object({{"bytes_up", integer()},
                   {"bytes_down", integer()},
                   {"credits_accrued", amount()},
                   {"vouchered", amount()},
                   {"unpaid", amount()},
                   {"paid_out", amount()},
                   {"torrents", array(object({{"torrent", string()},
                                              {"bytes_up", integer()},
                                              {"bytes_down", integer()},
                                              {"credits", amount()},
                                              {"vouchered", amount()}}))},
                   {"flushes", integer()},
                   {"last_flush_time", integer()}});
}

json summary_json(ledger::Summary const& s)
{
    json torrents = json::array();
    for (auto const& t : s.torrents)
        torrents.push_back({{"torrent", t.torrent},
                            {"bytes_up", t.bytes_up},
                            {"bytes_down", t.bytes_down},
                            {"credits", tron::to_decimal(t.credits)},
                            {"vouchered", tron::to_decimal(t.vouchered)}});
    return {{"bytes_up", s.bytes_up},
            {"bytes_down", s.bytes_down},
            {"credits_accrued", tron::to_decimal(s.credits_accrued)},
            {"vouchered", tron::to_decimal(s.vouchered)},
            {"unpaid", tron::to_decimal(s.unpaid)},
            {"paid_out", tron::to_decimal(s.paid_out)},
            {"torrents", std::move(torrents)},
            {"flushes", s.flushes},
            {"last_flush_time", s.last_flush_time}};
}

json ledger_peers_schema()
{
    using namespace schema;
    auto const peer = object(
        {{"id", integer()},
         {"address", or_null(string())},
         {"anonymous", boolean()},
         {"torrent", string()},
         {"ip", string()},
         {"client", string()},
         {"first_seen", integer()},
         {"last_seen", integer()},
         {"bytes_up", integer()},
         {"bytes_down", integer()},
         {"credits", amount()},
         {"vouchered", amount()},
         {"unpaid", amount()},
         {"latest_voucher", or_null(object({{"cumulative", amount()}, {"time", integer()}}))},
         {"bid_per_gib", or_null(amount())},
         {"our_bid_per_gib", or_null(amount())}});
    return object({{"peers", array(peer)}, {"next", or_null(integer())}});
}

json ledger_journal_schema()
{
    using namespace schema;
    auto const entry = object({{"id", integer()},
                               {"time", integer()},
                               {"flush", integer()},
                               {"counterparty", integer()},
                               {"address", or_null(string())},
                               {"torrent", string()},
                               {"kind", string()},
                               {"bytes_up", integer()},
                               {"bytes_down", integer()},
                               {"price_per_gib", string()},
                               {"amount", string()}});
    return object({{"entries", array(entry)}, {"next", or_null(integer())}});
}

json ledger_vouchers_schema()
{
    using namespace schema;
    auto const voucher = object({{"payer", string()},
                                 {"beneficiary", string()},
                                 {"chain_id", integer()},
                                 {"hub", string()},
                                 {"cumulative", amount()},
                                 {"signature", string()},
                                 {"torrent", string()},
                                 {"time", integer()},
                                 {"bid_per_gib", or_null(amount())},
                                 {"count", integer()}},
                                {{"bytes", integer()}, {"acked", amount()}});
    // Each direction only when asked for (direction), with the payer or beneficiary to page
    // after.
    return object({}, {{"received", array(voucher)},
                       {"issued", array(voucher)},
                       {"next_received", or_null(string())},
                       {"next_issued", or_null(string())}});
}

json ledger_verify_schema()
{
    using namespace schema;
    return object({{"ok", boolean()},
                   {"violations", array(string())},
                   {"journal_rows", integer()},
                   {"counterparties", integer()}});
}

} // namespace

void add_ledger_methods(MethodTable& t)
{
    t.push_back(
        {.name = "ledger.summary",
         .summary =
             "Bytes up/down, credits accrued, vouchered and unpaid, in total and by torrent.",
         .mutates = false,
         .params = {},
         .result = ledger_summary_schema(),
         .handler = [](Call& c) { return summary_json(ledger_of(c).summary()); }});
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
         .result = ledger_peers_schema(),
         .handler = [](Call& c) {
             return ledger_of(c).peers(c.arg<std::int64_t>("limit"), c.arg<std::int64_t>("after"),
                                       c.arg<std::string>("sort"));
         }});
    t.push_back({.name = "ledger.journal",
                 .summary = "The append-only journal, oldest first.",
                 .mutates = false,
                 .params = {limit_param("page size"),
                            after_id_param("id of the last entry of the previous page")},
                 .result = ledger_journal_schema(),
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
         .result = ledger_vouchers_schema(),
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
         .result = ledger_verify_schema(),
         .handler = [](Call& c) { return ledger_of(c).verify(); }});
}

} // namespace seedbox::rpc
