// seedboxctl: the shell's client for seedboxd. Uses the same JSON-RPC API as everyone else.
// Human tables by default, --json for scripts; the URL and token come from flags, the environment
// (SEEDBOX_URL, SEEDBOX_TOKEN, SEEDBOX_TOKEN_FILE, SEEDBOX_STATE_DIR) or the daemon's state dir.
#include "rpc/base64.h"
#include "rpc/ctl/client.h"
#include "rpc/ctl/format.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <sstream>
#include <unistd.h>

namespace {

using seedbox::ctl::Client;
using seedbox::ctl::CtlError;
using seedbox::ctl::json;
using namespace seedbox::ctl; // human(), print_table(), ...

std::string env_or(char const* name, std::string fallback = {})
{
    char const* v = std::getenv(name);
    return v && *v ? std::string(v) : fallback;
}

bool read_first_line(std::string const& path, std::string& out)
{
    std::ifstream f(path);
    if (!f || !std::getline(f, out))
        return false;
    while (!out.empty() && (out.back() == '\r' || out.back() == ' '))
        out.pop_back();
    return !out.empty();
}

void print_json(json const& j)
{
    std::puts(j.dump(2).c_str());
}

std::string base64_decode(std::string const& in)
{
    std::string out;
    if (!seedbox::rpc::base64_decode(in, out))
        throw CtlError(5, "the daemon sent invalid base64");
    return out;
}

struct Options {
    std::string url, token, token_file, state_dir, cacert;
    int timeout = 30;
    bool json_out = false;
};

// Where the daemon's state lives: flag, SEEDBOX_STATE_DIR, then the daemon's own default (./var)
// and the systemd/Docker one.
std::vector<std::string> state_dirs(Options const& o)
{
    if (!o.state_dir.empty())
        return {o.state_dir};
    if (auto e = env_or("SEEDBOX_STATE_DIR"); !e.empty())
        return {e};
    return {"./var", "/var/lib/seedboxd"};
}

Client connect(Options const& o)
{
    std::string url = o.url.empty() ? env_or("SEEDBOX_URL") : o.url;
    std::string token = o.token.empty() ? env_or("SEEDBOX_TOKEN") : o.token;
    std::string token_file = o.token_file.empty() ? env_or("SEEDBOX_TOKEN_FILE") : o.token_file;
    std::string cacert = o.cacert.empty() ? env_or("SEEDBOX_CACERT") : o.cacert;
    if (token.empty() && !token_file.empty() && !read_first_line(token_file, token))
        throw CtlError(2, "cannot read a token from " + token_file);
    for (auto const& dir : state_dirs(o)) {
        bool any = false;
        if (token.empty())
            any |= read_first_line(dir + "/rpc.token", token);
        if (url.empty())
            any |= read_first_line(dir + "/rpc.address", url);
        if (any)
            break;
    }
    if (url.empty())
        url = "http://127.0.0.1:9180";
    return Client(seedbox::ctl::parse_url(url), token, std::chrono::seconds(o.timeout), cacert);
}

// Full ids from what the user typed: a full id, or a unique prefix of one.
std::vector<std::string> resolve_ids(Client& c, std::vector<std::string> const& given)
{
    std::vector<std::string> out;
    json all;
    for (auto const& g : given) {
        if (g.size() == 40 || g.size() == 64) {
            out.push_back(g);
            continue;
        }
        if (all.is_null())
            all = c.call("torrent.list", {{"fields", {"id"}}})["torrents"];
        std::vector<std::string> hits;
        for (auto const& t : all)
            if (t["id"].get<std::string>().rfind(g, 0) == 0)
                hits.push_back(t["id"].get<std::string>());
        if (hits.empty())
            throw CtlError(2, "no torrent id starts with " + g);
        if (hits.size() > 1)
            throw CtlError(2, "more than one torrent id starts with " + g + "; type more of it");
        out.push_back(hits[0]);
    }
    return out;
}

std::string short_id(json const& id)
{
    return id.is_string() ? id.get<std::string>().substr(0, 8) : "-";
}

// In `call`'s params, "id" and "ids" may hold id prefixes, as everywhere else.
void resolve_param_ids(Client& c, json& params)
{
    if (auto it = params.find("id");
        it != params.end() && it->is_string() && it->get<std::string>().size() < 40)
        *it = resolve_ids(c, {it->get<std::string>()})[0];
    if (auto it = params.find("ids"); it != params.end() && it->is_array()) {
        std::vector<std::string> given;
        for (auto const& v : *it)
            if (v.is_string())
                given.push_back(v.get<std::string>());
        if (given.size() == it->size())
            *it = resolve_ids(c, given);
    }
}

// "KEY=VALUE" for session.set_settings: integers and booleans typed, the rest strings.
json setting_value(std::string const& text)
{
    if (text == "true" || text == "false")
        return text == "true";
    auto parsed = json::parse(text, nullptr, false);
    if (!parsed.is_discarded() && parsed.is_number_integer())
        return parsed;
    return text;
}

// "1.5M", "800k", "0" -> bytes per second (binary units, as printed).
std::int64_t parse_rate(std::string const& text)
{
    std::size_t used = 0;
    double v = 0;
    try {
        v = std::stod(text, &used);
    } catch (std::exception const&) {
        throw CtlError(2, "not a rate: " + text + " (e.g. 800k, 1.5M, 0 = unlimited)");
    }
    auto unit = text.substr(used);
    double mult = unit.empty() || unit == "B"                   ? 1
                  : unit == "k" || unit == "K" || unit == "KiB" ? 1024
                  : unit == "m" || unit == "M" || unit == "MiB" ? 1024.0 * 1024
                  : unit == "g" || unit == "G" || unit == "GiB" ? 1024.0 * 1024 * 1024
                                                                : -1;
    if (mult < 0 || v < 0 || v * mult > 2147483647.0)
        throw CtlError(2, "not a rate: " + text + " (e.g. 800k, 1.5M, 0 = unlimited)");
    return static_cast<std::int64_t>(v * mult);
}

// "20", "0.5", "1.25 BTT" -> base units (18 decimals), exactly, as a decimal string.
std::string btt_amount(std::string text)
{
    if (auto pos = text.find("BTT"); pos != std::string::npos)
        text.erase(pos);
    while (!text.empty() && text.back() == ' ')
        text.pop_back();
    auto dot = text.find('.');
    std::string whole = text.substr(0, dot);
    std::string frac = dot == std::string::npos ? "" : text.substr(dot + 1);
    auto digits = [](std::string const& d) {
        return std::all_of(d.begin(), d.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
    };
    if ((whole.empty() && frac.empty()) || !digits(whole) || !digits(frac) || frac.size() > 18 ||
        whole.size() > 40)
        throw CtlError(2, "not a BTT amount: " + text + " (e.g. 20 or 0.5; 18 decimals at most)");
    std::string units = whole + frac + std::string(18 - frac.size(), '0');
    units.erase(0, std::min(units.find_first_not_of('0'), units.size() - 1));
    if (units == "0")
        throw CtlError(2, "the amount must be above 0");
    return units;
}

// Each object as "key: value" lines, a blank line between them.
void print_objects(json const& list)
{
    bool first = true;
    for (auto const& item : list) {
        if (!first)
            std::puts("");
        first = false;
        print_object(item);
    }
}

// A reference block for offline settlement: {number, id, timestamp}, or what a TRON node's
// /walletsolidity/getnowblock answers ({blockID, block_header.raw_data.{number, timestamp}}).
json reference_block(std::string const& source)
{
    std::string text;
    if (source == "-") {
        text.assign(std::istreambuf_iterator<char>(std::cin), {});
    } else {
        std::ifstream f(source, std::ios::binary);
        if (!f)
            throw CtlError(2, "cannot read " + source);
        text.assign(std::istreambuf_iterator<char>(f), {});
    }
    auto j = json::parse(text, nullptr, false);
    if (j.is_object() && j.contains("blockID") && j.contains("block_header")) {
        auto const& raw = j["block_header"].value("raw_data", json::object());
        return {{"number", raw.value("number", json())},
                {"id", j["blockID"]},
                {"timestamp", raw.value("timestamp", json())}};
    }
    if (j.is_object() && j.contains("number") && j.contains("id") && j.contains("timestamp"))
        return {{"number", j["number"]}, {"id", j["id"]}, {"timestamp", j["timestamp"]}};
    throw CtlError(2, "--block: expected a node's getnowblock answer or {number, id, timestamp}");
}

// One screen of `top`: the torrents by name with rates, peers and ETA, and the totals.
void render_top(std::map<std::string, json> const& torrents, bool tty)
{
    std::vector<json> sorted;
    for (auto const& [id, t] : torrents)
        sorted.push_back(t);
    std::sort(sorted.begin(), sorted.end(), [](json const& a, json const& b) {
        return a.value("name", "") < b.value("name", "");
    });
    std::vector<std::vector<std::string>> rows;
    double down = 0, up = 0;
    for (auto const& t : sorted) {
        down += t.value("download_rate", 0.0);
        up += t.value("upload_rate", 0.0);
        rows.push_back({short_id(t["id"]), plain(t.value("name", json("-"))),
                        plain(t.value("state", json("-"))),
                        human_percent(t.value("progress", json())),
                        human_rate(t.value("download_rate", json())),
                        human_rate(t.value("upload_rate", json())), plain(t.value("peers", json())),
                        human("eta", t.value("eta", json())), plain(t.value("ratio", json()))});
    }
    rows.push_back({"total", std::to_string(sorted.size()) + " torrents", "", "", human_rate(down),
                    human_rate(up), "", "", ""});
    if (tty)
        std::fputs("\x1b[H\x1b[2J", stdout); // home, clear
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    localtime_r(&now, &tm);
    char ts[16];
    std::strftime(ts, sizeof ts, "%H:%M:%S", &tm);
    std::printf("seedboxctl top  %s\n", ts);
    print_table({"ID", "NAME", "STATE", "DONE", "DOWN", "UP", "PEERS", "ETA", "RATIO"}, rows);
    if (!tty)
        std::puts("");
    std::fflush(stdout);
}

// Live view: the list once, then torrent.stats/added/removed events; at most one screen a second.
void run_top(Client& c, int refreshes)
{
    std::map<std::string, json> torrents;
    json fields = {"id",          "name",  "state", "progress", "download_rate",
                   "upload_rate", "peers", "eta",   "ratio"};
    auto const listed = c.call("torrent.list", {{"fields", fields}}); // outlives the loop
    for (auto const& t : listed["torrents"])
        torrents[t["id"].get<std::string>()] = t;
    bool const tty = ::isatty(STDOUT_FILENO) != 0;
    int shown = 0;
    render_top(torrents, tty);
    if (refreshes > 0 && ++shown >= refreshes)
        return;
    auto last = std::chrono::steady_clock::now();
    c.watch({"torrent.stats", "torrent.added", "torrent.removed"},
            [&](std::string const& m, json const& p) {
                if (m == "torrent.stats") {
                    for (auto const& t : p.value("torrents", json::array()))
                        torrents[t["id"].get<std::string>()] = t;
                } else if (m == "torrent.added") {
                    auto& t = torrents[p.value("id", "")];
                    t["id"] = p.value("id", "");
                    t["name"] = p.value("name", "");
                } else if (m == "torrent.removed") {
                    torrents.erase(p.value("id", ""));
                }
                auto now = std::chrono::steady_clock::now();
                if (m == "torrent.stats" && now - last < std::chrono::seconds(1))
                    return true;
                last = now;
                render_top(torrents, tty);
                return refreshes <= 0 || ++shown < refreshes;
            });
}

// A bash completion script made from the command table itself, so it cannot drift: subcommands,
// their options, and torrent id prefixes from the daemon (`seedboxctl ids`).
std::string bash_completion(CLI::App const& app)
{
    std::string subs, cases;
    std::string globals;
    for (auto const* opt : app.get_options())
        for (auto const& name : opt->get_lnames())
            globals += " --" + name;
    for (auto const* sub : app.get_subcommands({})) {
        if (sub->get_group().empty())
            continue;
        subs += " " + sub->get_name();
        std::string words;
        for (auto const* opt : sub->get_options())
            for (auto const& name : opt->get_lnames())
                if (name != "help")
                    words += " --" + name;
        for (auto const* nested : sub->get_subcommands({}))
            words += " " + nested->get_name();
        cases += "        " + sub->get_name() + ") words=\"" + words + globals + "\" ;;\n";
    }
    return "# bash completion for seedboxctl: source <(seedboxctl completion bash)\n"
           "_seedboxctl() {\n"
           "    local cur=${COMP_WORDS[COMP_CWORD]} cmd=\"\" words w\n"
           "    for w in \"${COMP_WORDS[@]:1:COMP_CWORD-1}\"; do\n"
           "        case $w in -*) ;; *) [ -z \"$cmd\" ] && cmd=$w ;; esac\n"
           "    done\n"
           "    if [ -z \"$cmd\" ]; then\n"
           "        COMPREPLY=($(compgen -W \"" +
           subs + globals +
           "\" -- \"$cur\"))\n"
           "        return\n"
           "    fi\n"
           "    case $cmd in\n" +
           cases + "        *) words=\"" + globals +
           "\" ;;\n"
           "    esac\n"
           "    case $cmd in\n"
           "        "
           "remove|start|stop|recheck|reannounce|move|info|files|peers|trackers|limits|labels)\n"
           "            [[ $cur != -* ]] && words=\"$words $(seedboxctl ids 2>/dev/null)\" ;;\n"
           "    esac\n"
           "    COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
           "}\n"
           "complete -o default -F _seedboxctl seedboxctl\n";
}

std::string const kFlagsLegend =
    "FLAGS: d we want its data, u it wants ours, c we choke it, C it chokes us, E encrypted, "
    "S seed, I it connected to us";

} // namespace

int main(int argc, char** argv)
{
    CLI::App app{"seedboxctl: control a seedboxd daemon over its JSON-RPC API"};
    app.require_subcommand(1);
    app.fallthrough(); // global flags also after the subcommand: seedboxctl list --json
    Options o;
    app.add_option("--url", o.url,
                   "daemon URL, http://HOST:PORT, or https://HOST[:PORT] through a TLS proxy "
                   "(env SEEDBOX_URL; default: <state dir>/rpc.address, else "
                   "http://127.0.0.1:9180)");
    app.add_option("--cacert", o.cacert,
                   "PEM certificates to trust for https beside the system store (env "
                   "SEEDBOX_CACERT)");
    app.add_option("--token", o.token, "bearer token (env SEEDBOX_TOKEN)");
    app.add_option("--token-file", o.token_file,
                   "read the token from a file (env SEEDBOX_TOKEN_FILE)");
    app.add_option("--state-dir", o.state_dir,
                   "the daemon's state dir, for rpc.token and rpc.address (env SEEDBOX_STATE_DIR; "
                   "default ./var, then /var/lib/seedboxd)");
    app.add_option("--timeout", o.timeout, "seconds to wait for an answer")
        ->check(CLI::Range(1, 3600));
    app.add_flag("--json", o.json_out, "print the JSON result (for scripts)");

    std::string label, save_path, method, params_text, path, output, comment, block, up, down;
    std::string action;
    std::vector<std::string> items, ids, labels, events, trackers, add_trackers, rm_trackers;
    std::vector<std::string> settings, want, skip, prio;
    bool paused = false, delete_data = false, is_private = false, add_it = false;
    int count = 0;
    std::int64_t piece_size = 0, seed_time = -2, max_conn = -2;
    double ratio = -2;

    auto* list = app.add_subcommand("list", "list torrents, with totals");
    list->add_option("--label", label, "only torrents with this label");
    auto* add = app.add_subcommand("add", "add .torrent files, magnet links or http(s) URLs");
    add->add_option("items", items, "FILE.torrent, magnet:?..., or http(s)://...")->required();
    add->add_flag("--paused", paused, "add stopped");
    add->add_option("--label", labels, "label (repeatable)");
    add->add_option("--save-path", save_path,
                    "download directory (inside the allowed roots; relative = below the "
                    "downloads folder)");
    auto* remove = app.add_subcommand("remove", "remove torrents");
    remove->add_option("ids", ids, "torrent ids (a unique prefix is enough)")->required();
    remove->add_flag("--delete-data", delete_data, "also delete the downloaded files");
    auto* start = app.add_subcommand("start", "start torrents");
    start->add_option("ids", ids, "torrent ids")->required();
    auto* stop = app.add_subcommand("stop", "stop torrents");
    stop->add_option("ids", ids, "torrent ids")->required();
    auto* recheck = app.add_subcommand("recheck", "check torrents' data against their hashes");
    recheck->add_option("ids", ids, "torrent ids")->required();
    auto* reannounce = app.add_subcommand("reannounce", "announce to the trackers now");
    reannounce->add_option("ids", ids, "torrent ids")->required();
    auto* move = app.add_subcommand("move", "move a torrent's data to another directory");
    std::string move_id;
    move->add_option("id", move_id, "torrent id")->required();
    move->add_option("path", path, "target directory (relative = below the downloads folder)")
        ->required();
    auto* info = app.add_subcommand("info", "everything about one torrent");
    info->add_option("id", ids, "torrent id")->required()->expected(1);
    auto* files =
        app.add_subcommand("files", "a torrent's files; --skip/--want/--priority change them");
    files->add_option("id", ids, "torrent id")->required()->expected(1);
    files->add_option("--skip", skip, "file indexes not to download (repeatable)");
    files->add_option("--want", want, "file indexes to download again (repeatable)");
    files->add_option("--priority", prio, "INDEX=0..7 (repeatable)");
    auto* peers = app.add_subcommand("peers", "connected peers of a torrent");
    peers->add_option("id", ids, "torrent id")->required()->expected(1);
    auto* trackers_cmd =
        app.add_subcommand("trackers", "a torrent's trackers; --add/--remove change them");
    trackers_cmd->add_option("id", ids, "torrent id")->required()->expected(1);
    trackers_cmd->add_option("--add", add_trackers, "announce URL to add (repeatable)");
    trackers_cmd->add_option("--remove", rm_trackers, "announce URL to remove (repeatable)");
    auto* limits = app.add_subcommand("limits", "per-torrent rate, connection and share limits");
    limits->add_option("ids", ids, "torrent ids")->required();
    limits->add_option("--up", up, "upload limit, e.g. 800k or 1.5M (0 = unlimited)");
    limits->add_option("--down", down, "download limit (0 = unlimited)");
    limits->add_option("--connections", max_conn, "peer connections (-1 = unlimited)");
    limits->add_option("--ratio", ratio, "share ratio limit (-1 = none)");
    limits->add_option("--seed-time", seed_time, "seconds of seeding (-1 = none)");
    limits->add_option("--action", action, "at a limit: stop, remove or remove_data")
        ->check(CLI::IsMember({"stop", "remove", "remove_data"}));
    auto* labels_cmd = app.add_subcommand("labels", "replace torrents' labels");
    labels_cmd->add_option("ids", ids, "torrent ids")->required();
    labels_cmd->add_option("--set", labels, "label (repeatable; none = no labels)");
    auto* create =
        app.add_subcommand("create", "make a .torrent of a file or folder on the server");
    create->add_option("path", path, "file or folder (relative = below the downloads folder)")
        ->required();
    create->add_option("-o,--output", output, "write the .torrent here");
    create->add_option("--tracker", trackers, "announce URL (repeatable)");
    create->add_option("--comment", comment, "comment");
    create->add_option("--piece-size", piece_size, "bytes, a power of two (0 = automatic)");
    create->add_flag("--private", is_private, "set the private flag");
    create->add_flag("--add", add_it, "add it and seed from the same data");
    auto* settings_cmd = app.add_subcommand("settings", "session settings; KEY=VALUE changes them");
    settings_cmd->add_option("changes", settings, "e.g. upload_rate_limit=1048576 dht=false");
    auto* stats = app.add_subcommand("stats", "session statistics");
    auto* ledger = app.add_subcommand("ledger", "incentive ledger: totals, or per peer");
    auto* ledger_peers = ledger->add_subcommand("peers", "per counterparty");
    auto* ledger_journal =
        ledger->add_subcommand("journal", "the append-only journal, oldest first");
    std::int64_t limit = 100, after = 0;
    ledger_journal->add_option("--limit", limit, "entries")->check(CLI::Range(1, 1000));
    ledger_journal->add_option("--after", after, "id of the last entry already seen");
    auto* ledger_vouchers = ledger->add_subcommand("vouchers", "payment vouchers kept and issued");
    std::string direction;
    ledger_vouchers->add_option("--direction", direction, "received or issued")
        ->check(CLI::IsMember({"received", "issued"}));
    auto* ledger_verify =
        ledger->add_subcommand("verify", "replay the journal and check the ledger");
    auto* wallet =
        app.add_subcommand("wallet", "the daemon's TRON address; balance, deposit, withdraw");
    auto* wallet_balance =
        wallet->add_subcommand("balance", "TRX, BTT and hub deposit (broadcast mode)");
    std::string amount;
    auto* wallet_deposit =
        wallet->add_subcommand("deposit", "deposit BTT in the claim hub (broadcast mode)");
    wallet_deposit->add_option("amount", amount, "BTT, e.g. 20 or 0.5")->required();
    auto* wallet_withdraw = wallet->add_subcommand(
        "withdraw", "with AMOUNT: ask for BTT back from the hub; without: take it after the delay");
    wallet_withdraw->add_option("amount", amount, "BTT, e.g. 20 or 0.5");
    auto* add_peers = app.add_subcommand("add-peers", "connect a torrent to peers IP:PORT");
    std::string peer_id;
    std::vector<std::string> endpoints;
    add_peers->add_option("id", peer_id, "torrent id")->required();
    add_peers->add_option("peers", endpoints, "IP:PORT or [IPv6]:PORT")->required();
    auto* settle = app.add_subcommand("settle", "build (and in broadcast mode send) a settlement "
                                                "batch now");
    settle->add_option("--block", block,
                       "offline mode: the TaPoS reference block, a file (or - for stdin) holding "
                       "a node's /walletsolidity/getnowblock answer or {number, id, timestamp}");
    auto* settle_status = settle->add_subcommand("status", "settlement state, no action");
    auto* settle_batches = settle->add_subcommand("batches", "settlement batches, newest first");
    auto* settle_batch =
        settle->add_subcommand("batch", "one batch with its claims and signed hex");
    std::int64_t batch_id = 0;
    settle_batch->add_option("id", batch_id, "batch id")->required();
    auto* watch = app.add_subcommand("watch", "print events as they happen (Ctrl-C to stop)");
    watch->add_option("events", events, "event names (default: all)");
    watch->add_option("--count", count, "exit after this many events");
    auto* call = app.add_subcommand("call", "call any JSON-RPC method");
    call->add_option("method", method, "method name (see rpc.discover)")->required();
    call->add_option("params", params_text,
                     "params as a JSON object (\"id\"/\"ids\" may be id prefixes)");
    auto* health = app.add_subcommand("health", "exit 0 when the daemon answers GET /healthz");
    auto* top = app.add_subcommand("top", "live view of the torrents, refreshed from events");
    int refreshes = 0;
    top->add_option("--count", refreshes, "exit after this many screens (0 = until Ctrl-C)");
    auto* completion = app.add_subcommand("completion", "print the bash completion script");
    std::string shell = "bash";
    completion->add_option("shell", shell, "bash")->check(CLI::IsMember({"bash"}));
    auto* ids_cmd = app.add_subcommand("ids", "print id prefixes, one a line (for completion)");
    ids_cmd->group(""); // hidden

    CLI11_PARSE(app, argc, argv);

    if (*completion) {
        std::fputs(bash_completion(app).c_str(), stdout);
        return 0;
    }

    try {
        auto c = connect(o);
        auto out = [&](json const& j, auto&& human_out) {
            if (o.json_out)
                print_json(j);
            else
                human_out(j);
        };
        if (*list) {
            json p = {{"fields",
                       {"id", "name", "state", "progress", "total_size", "download_rate",
                        "upload_rate", "eta", "ratio", "labels"}}};
            if (!label.empty())
                p["label"] = label;
            out(c.call("torrent.list", p)["torrents"], [](json const& ts) {
                std::vector<std::vector<std::string>> rows;
                double size = 0, down = 0, upr = 0;
                for (auto const& t : ts) {
                    size += t.value("total_size", 0.0);
                    down += t.value("download_rate", 0.0);
                    upr += t.value("upload_rate", 0.0);
                    rows.push_back({short_id(t["id"]), plain(t["name"]), plain(t["state"]),
                                    human_percent(t["progress"]),
                                    human_bytes(t.value("total_size", 0.0)),
                                    human_rate(t["download_rate"]), human_rate(t["upload_rate"]),
                                    human("eta", t["eta"]), plain(t["ratio"]), plain(t["labels"])});
                }
                rows.push_back({"total", std::to_string(ts.size()) + " torrents", "", "",
                                human_bytes(size), human_rate(down), human_rate(upr), "", "", ""});
                print_table(
                    {"ID", "NAME", "STATE", "DONE", "SIZE", "DOWN", "UP", "ETA", "RATIO", "LABELS"},
                    rows);
            });
        } else if (*add) {
            json results = json::array();
            for (auto const& item : items) {
                json p = json::object();
                if (item.rfind("magnet:", 0) == 0)
                    p["magnet"] = item;
                else if (item.rfind("http://", 0) == 0 || item.rfind("https://", 0) == 0)
                    p["url"] = item;
                else {
                    std::ifstream f(item, std::ios::binary);
                    if (!f)
                        throw CtlError(2, "cannot read " + item);
                    std::string bytes((std::istreambuf_iterator<char>(f)), {});
                    p["metainfo"] = seedbox::rpc::base64_encode(bytes);
                }
                if (paused)
                    p["paused"] = true;
                if (!labels.empty())
                    p["labels"] = labels;
                if (!save_path.empty())
                    p["save_path"] = save_path;
                results.push_back(c.call("torrent.add", p));
            }
            out(results, [](json const& rs) {
                for (auto const& r : rs)
                    std::printf("%s %s %s\n", r.value("added", false) ? "added" : "already there:",
                                short_id(r["id"]).c_str(), plain(r["name"]).c_str());
            });
        } else if (*remove || *start || *stop || *recheck || *reannounce) {
            auto full = resolve_ids(c, ids);
            std::string m = *remove    ? "torrent.remove"
                            : *start   ? "torrent.start"
                            : *stop    ? "torrent.stop"
                            : *recheck ? "torrent.recheck"
                                       : "torrent.reannounce";
            json p = {{"ids", full}};
            if (*remove && delete_data)
                p["delete_data"] = true;
            auto r = c.call(m, p);
            std::string done = *remove    ? "removed"
                               : *start   ? "started"
                               : *stop    ? "stopped"
                               : *recheck ? "checking"
                                          : "announcing";
            out(r, [&](json const&) {
                for (auto const& id : full)
                    std::printf("%s %s\n", done.c_str(), id.substr(0, 8).c_str());
            });
        } else if (*move) {
            auto id = resolve_ids(c, {move_id})[0];
            out(c.call("torrent.move", {{"id", id}, {"path", path}}), [&](json const&) {
                std::printf("moving %s to %s\n", id.substr(0, 8).c_str(), path.c_str());
            });
        } else if (*info) {
            auto id = resolve_ids(c, ids)[0]; // every field
            out(c.call("torrent.get", {{"id", id}}), [](json const& t) { print_object(t); });
        } else if (*files) {
            auto id = resolve_ids(c, ids)[0];
            json changes = json::array();
            auto index_of = [](std::string const& s) {
                try {
                    return std::stoi(s);
                } catch (std::exception const&) {
                    throw CtlError(2, "not a file index: " + s);
                }
            };
            for (auto const& s : skip)
                changes.push_back({{"index", index_of(s)}, {"wanted", false}});
            for (auto const& s : want)
                changes.push_back({{"index", index_of(s)}, {"wanted", true}});
            for (auto const& s : prio) {
                auto eq = s.find('=');
                if (eq == std::string::npos)
                    throw CtlError(2, "--priority takes INDEX=0..7, not " + s);
                changes.push_back({{"index", index_of(s.substr(0, eq))},
                                   {"priority", index_of(s.substr(eq + 1))}});
            }
            if (!changes.empty())
                c.call("torrent.set_files", {{"id", id}, {"files", changes}});
            out(c.call("torrent.files", {{"id", id}})["files"], [](json const& fs) {
                std::vector<std::vector<std::string>> rows;
                for (auto const& f : fs)
                    rows.push_back({plain(f["index"]), human_bytes(f.value("size", 0.0)),
                                    human_percent(f["progress"]),
                                    f.value("wanted", true) ? plain(f["priority"]) : "skip",
                                    plain(f["path"])});
                print_table({"INDEX", "SIZE", "DONE", "PRIORITY", "PATH"}, rows);
            });
        } else if (*peers) {
            auto id = resolve_ids(c, ids)[0];
            out(c.call("torrent.peers", {{"id", id}})["peers"], [](json const& ps) {
                std::vector<std::vector<std::string>> rows;
                for (auto const& p : ps)
                    rows.push_back({plain(p["ip"]) + ":" + plain(p["port"]), plain(p["client"]),
                                    human_percent(p["progress"]), human_rate(p["download_rate"]),
                                    human_rate(p["upload_rate"]),
                                    human_bytes(p.value("downloaded", 0.0)),
                                    human_bytes(p.value("uploaded", 0.0)), plain(p["flags"])});
                print_table({"PEER", "CLIENT", "HAS", "DOWN", "UP", "GOT", "SENT", "FLAGS"}, rows);
                std::puts(kFlagsLegend.c_str());
            });
        } else if (*trackers_cmd) {
            auto id = resolve_ids(c, ids)[0];
            if (!add_trackers.empty() || !rm_trackers.empty()) {
                json p = {{"id", id}};
                if (!add_trackers.empty())
                    p["add"] = add_trackers;
                if (!rm_trackers.empty())
                    p["remove"] = rm_trackers;
                c.call("torrent.set_trackers", p);
            }
            out(c.call("torrent.trackers", {{"id", id}})["trackers"], [](json const& ts) {
                std::vector<std::vector<std::string>> rows;
                for (auto const& t : ts)
                    rows.push_back({plain(t["tier"]), plain(t["status"]), plain(t["seeds"]),
                                    plain(t["leechers"]), plain(t["url"]), plain(t["message"])});
                print_table({"TIER", "STATUS", "SEEDS", "LEECHERS", "URL", "MESSAGE"}, rows);
            });
        } else if (*limits || *labels_cmd) {
            json p = {{"ids", resolve_ids(c, ids)}};
            if (*labels_cmd) {
                p["labels"] = labels;
            } else {
                if (!up.empty())
                    p["upload_limit"] = parse_rate(up);
                if (!down.empty())
                    p["download_limit"] = parse_rate(down);
                if (max_conn != -2)
                    p["max_connections"] = max_conn;
                if (ratio != -2)
                    p["ratio_limit"] = ratio;
                if (seed_time != -2)
                    p["seed_time_limit"] = seed_time;
                if (!action.empty())
                    p["limit_action"] = action;
                if (p.size() == 1)
                    throw CtlError(2, "limits: give --up, --down, --connections, --ratio, "
                                      "--seed-time or --action");
            }
            out(c.call("torrent.set", p), [&](json const&) {
                for (auto const& id : p["ids"])
                    std::printf("updated %s\n", id.get<std::string>().substr(0, 8).c_str());
            });
        } else if (*create) {
            json p = {{"path", path}};
            if (!trackers.empty())
                p["trackers"] = trackers;
            if (!comment.empty())
                p["comment"] = comment;
            if (piece_size)
                p["piece_size"] = piece_size;
            if (is_private)
                p["private"] = true;
            if (add_it)
                p["add"] = true;
            auto r = c.call("torrent.create", p);
            if (!output.empty()) {
                auto bytes = base64_decode(r.value("metainfo", ""));
                std::ofstream f(output, std::ios::binary | std::ios::trunc);
                if (!f || !f.write(bytes.data(), static_cast<std::streamsize>(bytes.size())))
                    throw CtlError(2, "cannot write " + output);
            }
            out(r, [&](json const& x) {
                std::printf("%s %s %s%s%s\n",
                            x.value("added", false) ? "created and added" : "created",
                            short_id(x["id"]).c_str(), plain(x["name"]).c_str(),
                            output.empty() ? "" : " -> ", output.c_str());
            });
        } else if (*settings_cmd) {
            if (!settings.empty()) {
                json changes = json::object();
                for (auto const& kv : settings) {
                    auto eq = kv.find('=');
                    if (eq == std::string::npos)
                        throw CtlError(2, "settings: expected KEY=VALUE, not " + kv);
                    changes[kv.substr(0, eq)] = setting_value(kv.substr(eq + 1));
                }
                c.call("session.set_settings", changes);
            }
            out(c.call("session.settings"), [](json const& s) { print_object(s); });
        } else if (*stats) {
            out(c.call("session.stats"), [](json const& s) { print_object(s); });
        } else if (*ledger && (*ledger_journal || *ledger_vouchers || *ledger_verify)) {
            if (*ledger_journal)
                out(c.call("ledger.journal", {{"limit", limit}, {"after", after}}),
                    [](json const& j) { print_objects(j.value("entries", json::array())); });
            else if (*ledger_vouchers)
                out(c.call("ledger.vouchers",
                           direction.empty() ? json::object() : json{{"direction", direction}}),
                    [](json const& v) { print_object(v); });
            else
                out(c.call("ledger.verify"), [](json const& v) { print_object(v); });
        } else if (*add_peers) {
            auto id = resolve_ids(c, {peer_id})[0];
            out(c.call("torrent.add_peers", {{"id", id}, {"peers", endpoints}}), [&](json const&) {
                std::printf("dialling %zu peer(s) for %s\n", endpoints.size(),
                            id.substr(0, 8).c_str());
            });
        } else if (*ledger) {
            if (*ledger_peers) {
                out(c.call("ledger.peers")["peers"], [](json const& ps) {
                    std::vector<std::vector<std::string>> rows;
                    for (auto const& p : ps)
                        rows.push_back({p["address"].is_string() ? plain(p["address"])
                                                                 : "anonymous " + plain(p["ip"]),
                                        plain(p["client"]), human_bytes(p.value("bytes_up", 0.0)),
                                        human_bytes(p.value("bytes_down", 0.0)),
                                        human("credits", p["credits"]),
                                        human("unpaid", p["unpaid"])});
                    print_table({"COUNTERPARTY", "CLIENT", "SENT", "GOT", "CREDITS", "UNPAID"},
                                rows);
                });
            } else {
                out(c.call("ledger.summary"), [](json const& s) {
                    json top = s;
                    top.erase("torrents");
                    print_object(top);
                });
            }
        } else if (*wallet) {
            std::string m = *wallet_balance    ? "wallet.balance"
                            : *wallet_deposit  ? "wallet.deposit"
                            : *wallet_withdraw ? "wallet.withdraw"
                                               : "wallet.address";
            json p = json::object();
            if (!amount.empty())
                p["amount"] = btt_amount(amount);
            out(c.call(m, p), [](json const& w) { print_object(w); });
        } else if (*settle) {
            if (*settle_status) {
                out(c.call("settlement.status"), [](json const& s) { print_object(s); });
            } else if (*settle_batch) {
                out(c.call("settlement.batch", {{"id", batch_id}}), [](json const& b) {
                    json top = b;
                    top.erase("claims");
                    print_object(top);
                    std::puts("");
                    print_objects(b.value("claims", json::array()));
                });
            } else if (*settle_batches) {
                out(c.call("settlement.batches")["batches"], [](json const& bs) {
                    std::vector<std::vector<std::string>> rows;
                    for (auto const& b : bs)
                        rows.push_back({plain(b["id"]), plain(b["state"]), human_date(b["created"]),
                                        plain(b["claim_count"]), human("amount", b["total"]),
                                        plain(b["txid"])});
                    print_table({"BATCH", "STATE", "CREATED", "CLAIMS", "AMOUNT", "TXID"}, rows);
                });
            } else {
                json p = json::object();
                if (!block.empty())
                    p["reference_block"] = reference_block(block);
                out(c.call("settlement.run", p), [](json const& b) {
                    json top = b;
                    top.erase("transaction");
                    top.erase("claims");
                    print_object(top);
                });
            }
        } else if (*watch) {
            int seen = 0;
            c.watch(events, [&](std::string const& m, json const& p) {
                if (o.json_out) {
                    std::puts(json{{"method", m}, {"params", p}}.dump().c_str());
                } else {
                    std::time_t now = std::time(nullptr);
                    char ts[16];
                    std::tm tm{};
                    localtime_r(&now, &tm);
                    std::strftime(ts, sizeof ts, "%H:%M:%S", &tm);
                    std::printf("%s %s %s\n", ts, m.c_str(), p.dump().c_str());
                }
                std::fflush(stdout);
                return count <= 0 || ++seen < count;
            });
        } else if (*call) {
            json p = json::object();
            if (!params_text.empty()) {
                p = json::parse(params_text, nullptr, false);
                if (p.is_discarded() || !p.is_object())
                    throw CtlError(2, "params must be a JSON object, e.g. '{\"id\":\"...\"}'");
            }
            resolve_param_ids(c, p);
            print_json(c.call(method, p));
        } else if (*ids_cmd) {
            auto const listed = c.call("torrent.list", {{"fields", {"id"}}}); // outlives the loop
            for (auto const& t : listed["torrents"])
                std::puts(short_id(t["id"]).c_str());
        } else if (*top) {
            run_top(c, refreshes);
        } else if (*health) {
            auto body = c.get("/healthz");
            if (o.json_out)
                std::puts(body.c_str());
            else
                std::puts("ok");
        }
    } catch (CtlError const& e) {
        std::fprintf(stderr, "seedboxctl: %s\n", e.what());
        return e.exit_code;
    } catch (std::exception const& e) {
        std::fprintf(stderr, "seedboxctl: %s\n", e.what());
        return 2;
    }
    return 0;
}
