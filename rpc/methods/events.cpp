// events.subscribe / events.unsubscribe (WebSocket only), and the event table: every
// notification's name, what it means and its payload schema.
#include "daemon/base/events.h"
#include "daemon/torrent/torrents.h"
#include "ledger/settlement_store.h"
#include "rpc/method.h"
#include "rpc/schema.h"

#include <algorithm>
#include <stdexcept>

namespace seedbox::rpc {

namespace {

using namespace schema;

// A torrent as the torrent.* events carry it (Engine::Impl::summary).
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

} // namespace

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
