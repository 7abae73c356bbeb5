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

// An empty string as null (an anonymous counterparty's address, a missing bid).
json text_or_null(std::string const& s)
{
    return s.empty() ? json(nullptr) : json(s);
}

template <class Key> json next_json(std::optional<Key> const& next)
{
    return next ? json(*next) : json(nullptr);
}

json peers_json(ledger::Page<ledger::PeerView, std::int64_t> const& page)
{
    json out = json::array();
    for (auto const& p : page.rows)
        out.push_back(
            {{"id", p.id},
             {"address", text_or_null(p.address)},
             {"anonymous", p.address.empty()},
             {"torrent", p.torrent},
             {"ip", p.ip},
             {"client", p.client},
             {"first_seen", p.first_seen},
             {"last_seen", p.last_seen},
             {"bytes_up", p.bytes_up},
             {"bytes_down", p.bytes_down},
             {"credits", tron::to_decimal(p.credits)},
             {"vouchered", tron::to_decimal(p.vouchered)},
             {"unpaid", tron::to_decimal(p.unpaid)},
             {"latest_voucher",
              p.latest_voucher
                  ? json{{"cumulative", tron::to_decimal(p.latest_voucher->cumulative)},
                         {"time", p.latest_voucher->time}}
                  : json(nullptr)},
             {"bid_per_gib", p.latest_voucher ? text_or_null(p.bid_per_gib) : json(nullptr)},
             {"our_bid_per_gib", text_or_null(p.our_bid_per_gib)}});
    return {{"peers", std::move(out)}, {"next", next_json(page.next)}};
}

json journal_json(ledger::Page<ledger::JournalEntry, std::int64_t> const& page)
{
    json out = json::array();
    for (auto const& e : page.rows)
        out.push_back({{"id", e.id},
                       {"time", e.time},
                       {"flush", e.flush},
                       {"counterparty", e.counterparty},
                       {"address", text_or_null(e.address)},
                       {"torrent", e.torrent},
                       {"kind", e.kind},
                       {"bytes_up", e.bytes_up},
                       {"bytes_down", e.bytes_down},
                       {"price_per_gib", e.price_per_gib},
                       {"amount", e.amount}});
    return {{"entries", std::move(out)}, {"next", next_json(page.next)}};
}

json voucher_json(ledger::Voucher const& v)
{
    return {{"payer", v.payer},
            {"beneficiary", v.beneficiary},
            {"chain_id", v.chain_id},
            {"hub", v.hub},
            {"cumulative", tron::to_decimal(v.cumulative)},
            {"signature", v.signature},
            {"torrent", v.torrent},
            {"time", v.time},
            {"bid_per_gib", v.bid == 0 ? json(nullptr) : json(tron::to_decimal(v.bid))}};
}

json vouchers_json(ledger::VoucherPages const& pages)
{
    json out = json::object();
    if (auto const& r = pages.received) {
        json rows = json::array();
        for (auto const& v : r->rows) {
            auto j = voucher_json(v.voucher);
            j["count"] = v.count;
            rows.push_back(std::move(j));
        }
        out["received"] = std::move(rows);
        out["next_received"] = next_json(r->next);
    }
    if (auto const& i = pages.issued) {
        json rows = json::array();
        for (auto const& v : i->rows) {
            auto j = voucher_json(v.voucher);
            j["count"] = v.count;
            j["bytes"] = v.bytes;
            j["acked"] = v.acked;
            rows.push_back(std::move(j));
        }
        out["issued"] = std::move(rows);
        out["next_issued"] = next_json(i->next);
    }
    return out;
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

json verify_json(ledger::VerifyReport const& r)
{
    return {{"ok", r.ok()},
            {"violations", r.violations},
            {"journal_rows", r.journal_rows},
            {"counterparties", r.counterparties}};
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
             return peers_json(ledger_of(c).peers(c.arg<std::int64_t>("limit"),
                                                  c.arg<std::int64_t>("after"),
                                                  c.arg<std::string>("sort")));
         }});
    t.push_back({.name = "ledger.journal",
                 .summary = "The append-only journal, oldest first.",
                 .mutates = false,
                 .params = {limit_param("page size"),
                            after_id_param("id of the last entry of the previous page")},
                 .result = ledger_journal_schema(),
                 .handler = [](Call& c) {
                     return journal_json(ledger_of(c).journal(c.arg<std::int64_t>("limit"),
                                                              c.arg<std::int64_t>("after")));
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
             return vouchers_json(ledger_of(c).vouchers(c.arg<std::string>("direction"),
                                                        c.arg<std::int64_t>("limit"),
                                                        c.arg<std::string>("after")));
         }});
    t.push_back(
        {.name = "ledger.verify",
         .summary = "Replay the journal and check every stored amount and remainder against it.",
         .mutates = false,
         .params = {},
         .result = ledger_verify_schema(),
         .handler = [](Call& c) { return verify_json(ledger_of(c).verify()); }});
}

} // namespace seedbox::rpc
