// events.subscribe / events.unsubscribe (WebSocket only), and the event table: every
// notification's name, what it means and its payload schema.
#include "daemon/base/events.h"
#include "daemon/torrent/torrents.h"
#include "ledger/settlement_store.h"
#include "ledger/tron/uint256.h"
#include "rpc/method.h"
#include "rpc/notification.h"
#include "rpc/schema.h"

#include <algorithm>
#include <stdexcept>

namespace seedbox::rpc {

namespace {

using namespace schema;

// A torrent as the torrent.* events carry it (daemon::TorrentNote).
using Fields = std::vector<std::pair<char const*, json>>;

Fields torrent_note()
{
    static json const state = {{"type", "string"}, {"enum", daemon::torrent_states()}};
    return {{"id", string()},          {"name", string()},           {"state", state},
            {"progress", number()},    {"download_rate", integer()}, {"upload_rate", integer()},
            {"downloaded", integer()}, {"uploaded", integer()},      {"peers", integer()},
            {"seeds", integer()},      {"ratio", number()},          {"eta", integer()}};
}

json with(Fields all, Props more)
{
    all.insert(all.end(), more.begin(), more.end());
    json props = json::object();
    json names = json::array();
    for (auto const& [k, v] : all) {
        props[k] = v;
        names.push_back(k);
    }
    return {{"type", "object"}, {"properties", std::move(props)}, {"required", std::move(names)}};
}

std::vector<EventKind> build_event_table()
{
    using daemon::Event;
    auto const torrent = with(torrent_note(), {});
    return {
        {Event::torrent_added, "A torrent was added (also by the watch folder).",
         with(torrent_note(), {{"save_path", string()}, {"labels", array(string())}})},
        {Event::torrent_removed, "A torrent was removed; reason share_limit when its limit did it.",
         object({{"id", string()}, {"name", string()}, {"deleted_data", boolean()}},
                {{"reason", string()}})},
        {Event::torrent_state_changed, "A torrent changed state.",
         with(torrent_note(), {{"previous_state", string()}})},
        {Event::torrent_finished, "A torrent has every wanted piece.",
         with(torrent_note(), {{"save_path", string()}, {"completed_time", integer()}})},
        {Event::torrent_error, "A torrent or one of its files failed.",
         object({{"id", string()}, {"name", string()}, {"error", string()}, {"file", string()}},
                {{"operation", string()}})},
        {Event::torrent_stats, "The torrents that changed, about once a second.",
         object({{"torrents", array(torrent)}})},
        {Event::ledger_credited, "A ledger flush committed.",
         object({{"flush", integer()},
                 {"counterparties", integer()},
                 {"bytes_up", integer()},
                 {"bytes_down", integer()},
                 {"credits", amount()}})},
        {Event::ledger_voucher, "A payment voucher was kept (received) or issued.",
         object({{"direction", {{"type", "string"}, {"enum", {"received", "issued"}}}},
                 {"payer", string()},
                 {"beneficiary", string()},
                 {"cumulative", amount()},
                 {"amount", amount()},
                 {"torrent", string()}})},
        {Event::settlement_batch, "A settlement batch was built or changed state.",
         object({{"id", integer()},
                 {"state", {{"type", "string"}, {"enum", ledger::Batch::states()}}},
                 {"from", or_null(string())},
                 {"txid", string()},
                 {"claims", integer()},
                 {"total", amount()},
                 {"paid", amount()}})},
    };
}

// The dispatcher has already refused names outside EventHub::names() (the param's choices).
std::vector<std::string> pick(Call& c)
{
    if (!c.has("events"))
        return daemon::EventHub::names();
    return c.arg<std::vector<std::string>>("events");
}

// events.subscribe (add) and events.unsubscribe: the same param, result and handler.
Method subscription(std::string name, std::string summary, bool add)
{
    using namespace schema;
    return {
        .name = std::move(name),
        .summary = std::move(summary),
        .params = {Param{"events", Type::string_array, false, "event names (default: all)"}.one_of(
            daemon::EventHub::names())},
        .result = object({{"events", array(string())}}),
        .handler =
            [add](Call& c) {
                auto events = pick(c);
                c.connection().subscribe(events, add);
                return json{{"events", events}};
            },
        .websocket_only = true};
}

// Each payload's params, as its row above describes them.
json torrent_json(daemon::TorrentNote const& t)
{
    return {{"id", t.id},
            {"name", t.name},
            {"state", daemon::name(t.state)},
            {"progress", t.progress},
            {"download_rate", t.download_rate},
            {"upload_rate", t.upload_rate},
            {"downloaded", t.downloaded},
            {"uploaded", t.uploaded},
            {"peers", t.peers},
            {"seeds", t.seeds},
            {"ratio", t.ratio},
            {"eta", t.eta}};
}

json params_of(daemon::TorrentAdded const& e)
{
    auto out = torrent_json(e.torrent);
    out["save_path"] = e.save_path;
    out["labels"] = e.labels;
    return out;
}

json params_of(daemon::TorrentRemoved const& e)
{
    json out = {{"id", e.id}, {"name", e.name}, {"deleted_data", e.deleted_data}};
    if (e.reason)
        out["reason"] = *e.reason;
    return out;
}

json params_of(daemon::TorrentStateChanged const& e)
{
    auto out = torrent_json(e.torrent);
    out["previous_state"] = daemon::name(e.previous_state);
    return out;
}

json params_of(daemon::TorrentFinished const& e)
{
    auto out = torrent_json(e.torrent);
    out["save_path"] = e.save_path;
    out["completed_time"] = e.completed_time;
    return out;
}

json params_of(daemon::TorrentFailed const& e)
{
    json out = {{"id", e.id}, {"name", e.name}, {"error", e.error}, {"file", e.file}};
    if (e.operation)
        out["operation"] = *e.operation;
    return out;
}

json params_of(daemon::TorrentStats const& e)
{
    json list = json::array();
    for (auto const& t : e.torrents)
        list.push_back(torrent_json(t));
    return {{"torrents", std::move(list)}};
}

json params_of(daemon::LedgerCredited const& e)
{
    return {{"flush", e.flush},
            {"counterparties", e.counterparties},
            {"bytes_up", e.bytes_up},
            {"bytes_down", e.bytes_down},
            {"credits", tron::to_decimal(e.credits)}};
}

json params_of(daemon::VoucherKept const& e)
{
    return {{"direction", e.issued ? "issued" : "received"},
            {"payer", e.payer},
            {"beneficiary", e.beneficiary},
            {"cumulative", tron::to_decimal(e.cumulative)},
            {"amount", tron::to_decimal(e.amount)},
            {"torrent", e.torrent}};
}

json params_of(daemon::BatchChanged const& e)
{
    return {{"id", e.id},
            {"state", ledger::name(e.state)},
            {"from", e.from ? json(ledger::name(*e.from)) : json(nullptr)},
            {"txid", e.txid},
            {"claims", e.claims},
            {"total", tron::to_decimal(e.total)},
            {"paid", tron::to_decimal(e.paid)}};
}

} // namespace

std::string notification_text(daemon::EventPayload const& payload)
{
    json note = {{"jsonrpc", "2.0"},
                 {"method", daemon::name(daemon::event_of(payload))},
                 {"params", std::visit([](auto const& e) { return params_of(e); }, payload)}};
    return note.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::vector<EventKind> const& event_table()
{
    static auto const t = build_event_table();
    return t;
}

void check_event_table()
{
    auto const& t = event_table();
    for (int i = 0; i <= static_cast<int>(daemon::kLastEvent); ++i) {
        auto e = static_cast<daemon::Event>(i);
        auto n = std::count_if(t.begin(), t.end(), [e](auto const& k) { return k.event == e; });
        if (n != 1)
            throw std::logic_error(std::string("event ") + daemon::name(e) + " has " +
                                   std::to_string(n) + " rows in the event table (needs one)");
    }
    if (t.size() != static_cast<std::size_t>(daemon::kLastEvent) + 1)
        throw std::logic_error("the event table has a row for no daemon::Event");
}

void add_event_methods(MethodTable& t)
{
    t.push_back(subscription("events.subscribe",
                             "Receive notifications on this WebSocket (default: all events).",
                             true));
    t.push_back(
        subscription("events.unsubscribe", "Stop receiving notifications (default: all).", false));
}

} // namespace seedbox::rpc
