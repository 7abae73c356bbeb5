// seedboxctl: the shell's client for seedboxd. Uses the same JSON-RPC API as everyone else.
// Human tables by default, --json for scripts; the URL and token come from flags, the environment
// (SEEDBOX_URL, SEEDBOX_TOKEN, SEEDBOX_TOKEN_FILE, SEEDBOX_STATE_DIR) or the daemon's state dir.
#include "rpc/ctl/client.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iterator>
#include <openssl/evp.h>
#include <sstream>

namespace {

using seedbox::ctl::Client;
using seedbox::ctl::CtlError;
using seedbox::ctl::json;

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

std::string human_bytes(double n)
{
    static char const* const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    int u = 0;
    while (n >= 1024 && u < 5) {
        n /= 1024;
        ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", n, units[u]);
    return buf;
}

std::string num(json const& v)
{
    if (v.is_number_float()) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.2f", v.get<double>());
        return buf;
    }
    if (v.is_string())
        return v.get<std::string>();
    if (v.is_null())
        return "-";
    if (v.is_array()) {
        std::string s;
        for (auto const& e : v)
            s += (s.empty() ? "" : ",") + (e.is_string() ? e.get<std::string>() : e.dump());
        return s.empty() ? "-" : s;
    }
    return v.dump();
}

std::string rate(json const& v)
{
    return v.is_number() && v.get<double>() > 0 ? human_bytes(v.get<double>()) + "/s" : "-";
}

std::string percent(json const& v)
{
    char buf[16];
    std::snprintf(buf, sizeof buf, "%.1f%%", v.is_number() ? v.get<double>() * 100 : 0.0);
    return buf;
}

void print_table(std::vector<std::string> const& head,
                 std::vector<std::vector<std::string>> const& rows)
{
    std::vector<std::size_t> w(head.size());
    for (std::size_t i = 0; i < head.size(); ++i)
        w[i] = head[i].size();
    for (auto const& r : rows)
        for (std::size_t i = 0; i < r.size(); ++i)
            w[i] = std::max(w[i], r[i].size());
    auto line = [&](std::vector<std::string> const& r) {
        std::string out;
        for (std::size_t i = 0; i < r.size(); ++i) {
            out += r[i];
            if (i + 1 < r.size())
                out += std::string(w[i] - r[i].size() + 2, ' ');
        }
        std::puts(out.c_str());
    };
    line(head);
    for (auto const& r : rows)
        line(r);
}

// "key: value" lines for an object, nested objects flattened with dots.
void print_object(json const& obj, std::string const& prefix = "")
{
    for (auto const& [k, v] : obj.items()) {
        if (v.is_object() && !v.empty())
            print_object(v, prefix + k + ".");
        else
            std::printf("%s%s: %s\n", prefix.c_str(), k.c_str(), num(v).c_str());
    }
}

void print_json(json const& j)
{
    std::puts(j.dump(2).c_str());
}

std::string base64(std::string const& in)
{
    std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
    auto n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                             reinterpret_cast<unsigned char const*>(in.data()),
                             static_cast<int>(in.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

struct Options {
    std::string url, token, token_file, state_dir;
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
    return Client(seedbox::ctl::parse_url(url), token, std::chrono::seconds(o.timeout));
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

} // namespace

int main(int argc, char** argv)
{
    CLI::App app{"seedboxctl: control a seedboxd daemon over its JSON-RPC API"};
    app.require_subcommand(1);
    app.fallthrough(); // global flags also after the subcommand: seedboxctl list --json
    Options o;
    app.add_option("--url", o.url,
                   "daemon URL, http://HOST:PORT (env SEEDBOX_URL; default: "
                   "<state dir>/rpc.address, else http://127.0.0.1:9180)");
    app.add_option("--token", o.token, "bearer token (env SEEDBOX_TOKEN)");
    app.add_option("--token-file", o.token_file,
                   "read the token from a file (env SEEDBOX_TOKEN_FILE)");
    app.add_option("--state-dir", o.state_dir,
                   "the daemon's state dir, for rpc.token and rpc.address (env SEEDBOX_STATE_DIR; "
                   "default ./var, then /var/lib/seedboxd)");
    app.add_option("--timeout", o.timeout, "seconds to wait for an answer")
        ->check(CLI::Range(1, 3600));
    app.add_flag("--json", o.json_out, "print the JSON result (for scripts)");

    std::string label, save_path, method, params_text;
    std::vector<std::string> items, ids, labels, events;
    bool paused = false, delete_data = false;
    int count = 0;

    auto* list = app.add_subcommand("list", "list torrents");
    list->add_option("--label", label, "only torrents with this label");
    auto* add = app.add_subcommand("add", "add .torrent files, magnet links or http(s) URLs");
    add->add_option("items", items, "FILE.torrent, magnet:?..., or http(s)://...")->required();
    add->add_flag("--paused", paused, "add stopped");
    add->add_option("--label", labels, "label (repeatable)");
    add->add_option("--save-path", save_path, "download directory (inside the allowed roots)");
    auto* remove = app.add_subcommand("remove", "remove torrents");
    remove->add_option("ids", ids, "torrent ids (a unique prefix is enough)")->required();
    remove->add_flag("--delete-data", delete_data, "also delete the downloaded files");
    auto* start = app.add_subcommand("start", "start torrents");
    start->add_option("ids", ids, "torrent ids")->required();
    auto* stop = app.add_subcommand("stop", "stop torrents");
    stop->add_option("ids", ids, "torrent ids")->required();
    auto* info = app.add_subcommand("info", "everything about one torrent");
    info->add_option("id", ids, "torrent id")->required()->expected(1);
    auto* peers = app.add_subcommand("peers", "connected peers of a torrent");
    peers->add_option("id", ids, "torrent id")->required()->expected(1);
    auto* stats = app.add_subcommand("stats", "session statistics");
    auto* ledger = app.add_subcommand("ledger", "incentive ledger: totals, or per peer");
    auto* ledger_peers = ledger->add_subcommand("peers", "per counterparty");
    auto* settle = app.add_subcommand("settle", "build (and in broadcast mode send) a settlement "
                                                "batch now");
    auto* settle_status = settle->add_subcommand("status", "settlement state, no action");
    auto* watch = app.add_subcommand("watch", "print events as they happen (Ctrl-C to stop)");
    watch->add_option("events", events, "event names (default: all)");
    watch->add_option("--count", count, "exit after this many events");
    auto* call = app.add_subcommand("call", "call any JSON-RPC method");
    call->add_option("method", method, "method name (see rpc.discover)")->required();
    call->add_option("params", params_text, "params as a JSON object");
    auto* health = app.add_subcommand("health", "exit 0 when the daemon answers GET /healthz");

    CLI11_PARSE(app, argc, argv);

    try {
        auto c = connect(o);
        auto out = [&](json const& j, auto&& human) {
            if (o.json_out)
                print_json(j);
            else
                human(j);
        };
        if (*list) {
            json p = {{"fields",
                       {"id", "name", "state", "progress", "total_size", "download_rate",
                        "upload_rate", "ratio", "labels"}}};
            if (!label.empty())
                p["label"] = label;
            out(c.call("torrent.list", p)["torrents"], [](json const& ts) {
                std::vector<std::vector<std::string>> rows;
                for (auto const& t : ts)
                    rows.push_back({short_id(t["id"]), num(t["name"]), num(t["state"]),
                                    percent(t["progress"]), human_bytes(t.value("total_size", 0.0)),
                                    rate(t["download_rate"]), rate(t["upload_rate"]),
                                    num(t["ratio"]), num(t["labels"])});
                print_table(
                    {"ID", "NAME", "STATE", "DONE", "SIZE", "DOWN", "UP", "RATIO", "LABELS"}, rows);
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
                    p["metainfo"] = base64(bytes);
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
                                short_id(r["id"]).c_str(), num(r["name"]).c_str());
            });
        } else if (*remove || *start || *stop) {
            auto full = resolve_ids(c, ids);
            std::string m = *remove ? "torrent.remove" : *start ? "torrent.start" : "torrent.stop";
            json p = {{"ids", full}};
            if (*remove && delete_data)
                p["delete_data"] = true;
            auto r = c.call(m, p);
            out(r, [&](json const&) {
                for (auto const& id : full)
                    std::printf("%s %s\n",
                                *remove  ? "removed"
                                : *start ? "started"
                                         : "stopped",
                                id.substr(0, 8).c_str());
            });
        } else if (*info) {
            auto id = resolve_ids(c, ids)[0];
            out(c.call("torrent.get", {{"id", id}}), [](json const& t) { print_object(t); });
        } else if (*peers) {
            auto id = resolve_ids(c, ids)[0];
            out(c.call("torrent.peers", {{"id", id}})["peers"], [](json const& ps) {
                std::vector<std::vector<std::string>> rows;
                for (auto const& p : ps)
                    rows.push_back({num(p["ip"]) + ":" + num(p["port"]), num(p["client"]),
                                    percent(p["progress"]), rate(p["download_rate"]),
                                    rate(p["upload_rate"]), human_bytes(p.value("downloaded", 0.0)),
                                    human_bytes(p.value("uploaded", 0.0)), num(p["flags"])});
                print_table({"PEER", "CLIENT", "HAS", "DOWN", "UP", "GOT", "SENT", "FLAGS"}, rows);
            });
        } else if (*stats) {
            out(c.call("session.stats"), [](json const& s) { print_object(s); });
        } else if (*ledger) {
            if (*ledger_peers) {
                out(c.call("ledger.peers")["peers"], [](json const& ps) {
                    std::vector<std::vector<std::string>> rows;
                    for (auto const& p : ps)
                        rows.push_back({p["address"].is_string() ? num(p["address"])
                                                                 : "anonymous " + num(p["ip"]),
                                        num(p["client"]), human_bytes(p.value("bytes_up", 0.0)),
                                        human_bytes(p.value("bytes_down", 0.0)), num(p["credits"]),
                                        num(p["unpaid"])});
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
        } else if (*settle) {
            if (*settle_status)
                out(c.call("settlement.status"), [](json const& s) { print_object(s); });
            else
                out(c.call("settlement.run"), [](json const& b) { print_object(b); });
        } else if (*watch) {
            int seen = 0;
            c.watch(events, [&](std::string const& m, json const& p) {
                if (o.json_out) {
                    std::puts(json{{"method", m}, {"params", p}}.dump().c_str());
                } else {
                    std::time_t now = std::time(nullptr);
                    char ts[16];
                    std::strftime(ts, sizeof ts, "%H:%M:%S", std::localtime(&now));
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
            print_json(c.call(method, p));
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
