// seedboxctl's subcommands at work: which JSON-RPC calls each one makes and which printer shows
// the answer (params from requests.cpp, tables from output.cpp, loops from watch.cpp).
#include "rpc/ctl/run.h"

#include "rpc/ctl/format.h"
#include "rpc/ctl/output.h"
#include "rpc/ctl/requests.h"
#include "rpc/ctl/watch.h"

#include <cstdio>

namespace seedbox::ctl {

namespace {

// With --json the result as the daemon sent it, otherwise human_out(result) for a person.
template <class HumanOut> void out(Args const& a, json const& result, HumanOut&& human_out)
{
    if (a.global.json_out)
        print_json(result);
    else
        human_out(result);
}

void list(Client& c, Args const& a)
{
    json p = {{"fields",
               {"id", "name", "state", "progress", "total_size", "download_rate", "upload_rate",
                "eta", "ratio", "labels"}}};
    if (!a.label.empty())
        p["label"] = a.label;
    out(a, c.call("torrent.list", p)["torrents"], print_torrents);
}

void add(Client& c, Args const& a)
{
    json results = json::array();
    for (auto const& item : a.items)
        results.push_back(c.call("torrent.add", add_params(a, item)));
    out(a, results, print_added);
}

// remove, start, stop, recheck, reannounce.
void torrent_action(Client& c, Args const& a, Commands const& cmd)
{
    auto full = resolve_ids(c, a.ids);
    std::string m = *cmd.remove    ? "torrent.remove"
                    : *cmd.start   ? "torrent.start"
                    : *cmd.stop    ? "torrent.stop"
                    : *cmd.recheck ? "torrent.recheck"
                                   : "torrent.reannounce";
    json p = {{"ids", full}};
    if (*cmd.remove && a.delete_data)
        p["delete_data"] = true;
    auto r = c.call(m, p);
    std::string done = *cmd.remove    ? "removed"
                       : *cmd.start   ? "started"
                       : *cmd.stop    ? "stopped"
                       : *cmd.recheck ? "checking"
                                      : "announcing";
    out(a, r, [&](json const&) { print_done(done, full); });
}

void move_torrent(Client& c, Args const& a)
{
    auto id = resolve_ids(c, {a.move_id})[0];
    out(a, c.call("torrent.move", {{"id", id}, {"path", a.path}}),
        [&](json const&) { print_moving(id, a.path); });
}

void files(Client& c, Args const& a)
{
    auto id = resolve_ids(c, a.ids)[0];
    json changes = file_changes(a);
    if (!changes.empty())
        c.call("torrent.set_files", {{"id", id}, {"files", changes}});
    out(a, c.call("torrent.files", {{"id", id}})["files"], print_files);
}

void trackers(Client& c, Args const& a)
{
    auto id = resolve_ids(c, a.ids)[0];
    if (!a.add_trackers.empty() || !a.rm_trackers.empty()) {
        json p = {{"id", id}};
        if (!a.add_trackers.empty())
            p["add"] = a.add_trackers;
        if (!a.rm_trackers.empty())
            p["remove"] = a.rm_trackers;
        c.call("torrent.set_trackers", p);
    }
    out(a, c.call("torrent.trackers", {{"id", id}})["trackers"], print_trackers);
}

// limits, labels: both torrent.set.
void torrent_set(Client& c, Args const& a, Commands const& cmd)
{
    auto full = resolve_ids(c, a.ids);
    json p = {{"ids", full}};
    if (*cmd.labels)
        p["labels"] = a.labels;
    else
        add_limit_params(p, a);
    out(a, c.call("torrent.set", p), [&](json const&) { print_done("updated", full); });
}

void create(Client& c, Args const& a)
{
    auto r = c.call("torrent.create", create_params(a));
    if (!a.output.empty())
        write_metainfo(r, a.output);
    out(a, r, [&](json const& x) { print_created(x, a.output); });
}

void settings(Client& c, Args const& a)
{
    if (!a.settings.empty())
        c.call("session.set_settings", settings_changes(a.settings));
    out(a, c.call("session.settings"), [](json const& s) { print_object(s); });
}

// ledger journal, vouchers, verify.
void ledger_records(Client& c, Args const& a, Commands const& cmd)
{
    if (*cmd.ledger_journal)
        out(a, c.call("ledger.journal", {{"limit", a.limit}, {"after", a.after}}),
            [](json const& j) { print_objects(j.value("entries", json::array())); });
    else if (*cmd.ledger_vouchers)
        out(a,
            c.call("ledger.vouchers",
                   a.direction.empty() ? json::object() : json{{"direction", a.direction}}),
            [](json const& v) { print_object(v); });
    else
        out(a, c.call("ledger.verify"), [](json const& v) { print_object(v); });
}

void add_peers(Client& c, Args const& a)
{
    auto id = resolve_ids(c, {a.peer_id})[0];
    out(a, c.call("torrent.add_peers", {{"id", id}, {"peers", a.endpoints}}),
        [&](json const&) { print_dialling(a.endpoints.size(), id); });
}

// ledger, ledger peers.
void ledger_totals(Client& c, Args const& a, Commands const& cmd)
{
    if (*cmd.ledger_peers)
        out(a, c.call("ledger.peers")["peers"], print_ledger_peers);
    else
        out(a, c.call("ledger.summary"), print_ledger_summary);
}

void wallet(Client& c, Args const& a, Commands const& cmd)
{
    std::string m = *cmd.wallet_balance    ? "wallet.balance"
                    : *cmd.wallet_deposit  ? "wallet.deposit"
                    : *cmd.wallet_withdraw ? "wallet.withdraw"
                                           : "wallet.address";
    json p = json::object();
    if (!a.amount.empty())
        p["amount"] = btt_amount(a.amount);
    out(a, c.call(m, p), [](json const& w) { print_object(w); });
}

void settle(Client& c, Args const& a, Commands const& cmd)
{
    if (*cmd.settle_status) {
        out(a, c.call("settlement.status"), [](json const& s) { print_object(s); });
    } else if (*cmd.settle_batch) {
        out(a, c.call("settlement.batch", {{"id", a.batch_id}}), print_batch);
    } else if (*cmd.settle_batches) {
        out(a, c.call("settlement.batches")["batches"], print_batches);
    } else {
        json p = json::object();
        if (!a.block.empty())
            p["reference_block"] = reference_block(a.block);
        out(a, c.call("settlement.run", p), print_settlement);
    }
}

void call(Client& c, Args const& a)
{
    json p = call_params(a.params_text);
    resolve_param_ids(c, p);
    print_json(c.call(a.method, p));
}

void health(Client& c, Args const& a)
{
    auto body = c.get("/healthz");
    if (a.global.json_out)
        std::puts(body.c_str());
    else
        std::puts("ok");
}

// blocklist [--update], ban, unban, bans.
void ip_filter(Client& c, Args const& a, Commands const& cmd)
{
    if (*cmd.blocklist)
        return out(a, c.call(a.update ? "blocklist.update" : "blocklist.status"),
                   [](json const& s) { print_object(s); });
    auto const method = *cmd.bans ? "bans.list" : *cmd.ban ? "bans.add" : "bans.remove";
    auto const params = *cmd.bans ? json::object() : json{{"addresses", a.addresses}};
    out(a, c.call(method, params)["bans"], [](json const& list) {
        for (auto const& b : list)
            std::puts(b.get<std::string>().c_str());
    });
}

// label: the list; with a name, labels.set (or labels.remove with --remove).
void label(Client& c, Args const& a, Commands const& cmd)
{
    json p = {{"name", a.label_name}};
    auto const* set_save = cmd.label->get_option("--save-path");
    auto const* set_move = cmd.label->get_option("--move-on-complete");
    if (set_save->count() > 0)
        p["save_path"] = a.save_path;
    if (set_move->count() > 0)
        p["move_on_complete"] = a.move_on_complete;
    add_share_limits(p, a);
    auto const method = a.label_name.empty() ? "labels.list"
                        : a.remove_label     ? "labels.remove"
                                             : "labels.set";
    if (a.label_name.empty())
        p = json::object();
    else if (a.remove_label)
        p = {{"name", a.label_name}};
    out(a, c.call(method, p)["labels"], [](json const& labels) { print_objects(labels); });
}

} // namespace

// One branch per subcommand (CLI11 lets exactly one top-level subcommand through).
void run_command(Client& c, Args const& a, Commands const& cmd)
{
    if (*cmd.list) {
        list(c, a);
    } else if (*cmd.add) {
        add(c, a);
    } else if (*cmd.remove || *cmd.start || *cmd.stop || *cmd.recheck || *cmd.reannounce) {
        torrent_action(c, a, cmd);
    } else if (*cmd.move) {
        move_torrent(c, a);
    } else if (*cmd.queue) {
        auto full = resolve_ids(c, a.ids);
        out(a, c.call("torrent.queue_move", {{"ids", full}, {"to", a.queue_to}}),
            [&](json const&) { print_done("queued " + a.queue_to, full); });
    } else if (*cmd.info) {
        auto id = resolve_ids(c, a.ids)[0]; // every field
        out(a, c.call("torrent.get", {{"id", id}}), [](json const& t) { print_object(t); });
    } else if (*cmd.files) {
        files(c, a);
    } else if (*cmd.peers) {
        auto id = resolve_ids(c, a.ids)[0];
        out(a, c.call("torrent.peers", {{"id", id}})["peers"], print_peers);
    } else if (*cmd.trackers) {
        trackers(c, a);
    } else if (*cmd.limits || *cmd.labels) {
        torrent_set(c, a, cmd);
    } else if (*cmd.create) {
        create(c, a);
    } else if (*cmd.settings) {
        settings(c, a);
    } else if (*cmd.stats) {
        out(a, c.call("session.stats"), [](json const& s) { print_object(s); });
    } else if (*cmd.blocklist || *cmd.ban || *cmd.unban || *cmd.bans) {
        ip_filter(c, a, cmd);
    } else if (*cmd.label) {
        label(c, a, cmd);
    } else if (*cmd.ledger && (*cmd.ledger_journal || *cmd.ledger_vouchers || *cmd.ledger_verify)) {
        ledger_records(c, a, cmd);
    } else if (*cmd.add_peers) {
        add_peers(c, a);
    } else if (*cmd.ledger) {
        ledger_totals(c, a, cmd);
    } else if (*cmd.wallet) {
        wallet(c, a, cmd);
    } else if (*cmd.settle) {
        settle(c, a, cmd);
    } else if (*cmd.watch) {
        run_watch(c, a.events, a.count, a.global.json_out);
    } else if (*cmd.call) {
        call(c, a);
    } else if (*cmd.ids) {
        auto const listed = c.call("torrent.list", {{"fields", {"id"}}}); // outlives the loop
        print_ids(listed["torrents"]);
    } else if (*cmd.top) {
        run_top(c, a.refreshes);
    } else if (*cmd.health) {
        health(c, a);
    }
}

} // namespace seedbox::ctl
