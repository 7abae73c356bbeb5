// seedboxctl's output per subcommand: the tables and listings of the daemon's answers, through
// format.h's value formatting, and the .torrent file `create -o` writes.
#include "rpc/ctl/output.h"

#include "rpc/base64.h"
#include "rpc/ctl/client.h"
#include "rpc/ctl/format.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <fstream>

namespace seedbox::ctl {

namespace {

std::string const kFlagsLegend =
    "FLAGS: d we want its data, u it wants ours, c we choke it, C it chokes us, E encrypted, "
    "S seed, I it connected to us";

std::string base64_decode(std::string const& in)
{
    std::string out;
    if (!seedbox::rpc::base64_decode(in, out))
        throw CtlError(5, "the daemon sent invalid base64");
    return out;
}

// Now as HH:MM:SS, local time.
std::string clock_time()
{
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    localtime_r(&now, &tm);
    char ts[16];
    std::strftime(ts, sizeof ts, "%H:%M:%S", &tm);
    return ts;
}

} // namespace

void print_json(json const& j)
{
    std::puts(j.dump(2).c_str());
}

std::string short_id(json const& id)
{
    return id.is_string() ? id.get<std::string>().substr(0, 8) : "-";
}

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

void print_torrents(json const& ts)
{
    std::vector<std::vector<std::string>> rows;
    double size = 0, down = 0, upr = 0;
    for (auto const& t : ts) {
        size += t.value("total_size", 0.0);
        down += t.value("download_rate", 0.0);
        upr += t.value("upload_rate", 0.0);
        rows.push_back({short_id(t["id"]), plain(t["name"]), plain(t["state"]),
                        human_percent(t["progress"]), human_bytes(t.value("total_size", 0.0)),
                        human_rate(t["download_rate"]), human_rate(t["upload_rate"]),
                        human("eta", t["eta"]), plain(t["ratio"]), plain(t["labels"])});
    }
    rows.push_back({"total", std::to_string(ts.size()) + " torrents", "", "", human_bytes(size),
                    human_rate(down), human_rate(upr), "", "", ""});
    print_table({"ID", "NAME", "STATE", "DONE", "SIZE", "DOWN", "UP", "ETA", "RATIO", "LABELS"},
                rows);
}

void print_added(json const& rs)
{
    for (auto const& r : rs)
        std::printf("%s %s %s\n",
                    r.value("added", false) ? "added" : "already there:", short_id(r["id"]).c_str(),
                    plain(r["name"]).c_str());
}

void print_done(std::string const& verb, std::vector<std::string> const& ids)
{
    for (auto const& id : ids)
        std::printf("%s %s\n", verb.c_str(), id.substr(0, 8).c_str());
}

void print_moving(std::string const& id, std::string const& path)
{
    std::printf("moving %s to %s\n", id.substr(0, 8).c_str(), path.c_str());
}

void print_files(json const& fs)
{
    std::vector<std::vector<std::string>> rows;
    for (auto const& f : fs)
        rows.push_back({plain(f["index"]), human_bytes(f.value("size", 0.0)),
                        human_percent(f["progress"]),
                        f.value("wanted", true) ? plain(f["priority"]) : "skip", plain(f["path"])});
    print_table({"INDEX", "SIZE", "DONE", "PRIORITY", "PATH"}, rows);
}

void print_peers(json const& ps)
{
    std::vector<std::vector<std::string>> rows;
    for (auto const& p : ps)
        rows.push_back({plain(p["ip"]) + ":" + plain(p["port"]), plain(p["client"]),
                        human_percent(p["progress"]), human_rate(p["download_rate"]),
                        human_rate(p["upload_rate"]), human_bytes(p.value("downloaded", 0.0)),
                        human_bytes(p.value("uploaded", 0.0)), plain(p["flags"])});
    print_table({"PEER", "CLIENT", "HAS", "DOWN", "UP", "GOT", "SENT", "FLAGS"}, rows);
    std::puts(kFlagsLegend.c_str());
}

void print_trackers(json const& ts)
{
    std::vector<std::vector<std::string>> rows;
    for (auto const& t : ts)
        rows.push_back({plain(t["tier"]), plain(t["status"]), plain(t["seeds"]),
                        plain(t["leechers"]), plain(t["url"]), plain(t["message"])});
    print_table({"TIER", "STATUS", "SEEDS", "LEECHERS", "URL", "MESSAGE"}, rows);
}

void print_created(json const& x, std::string const& output)
{
    std::printf("%s %s %s%s%s\n", x.value("added", false) ? "created and added" : "created",
                short_id(x["id"]).c_str(), plain(x["name"]).c_str(), output.empty() ? "" : " -> ",
                output.c_str());
}

void write_metainfo(json const& created, std::string const& path)
{
    auto bytes = base64_decode(created.value("metainfo", ""));
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    if (!f || !f.write(bytes.data(), static_cast<std::streamsize>(bytes.size())))
        throw CtlError(2, "cannot write " + path);
}

void print_dialling(std::size_t count, std::string const& id)
{
    std::printf("dialling %zu peer(s) for %s\n", count, id.substr(0, 8).c_str());
}

void print_ledger_peers(json const& ps)
{
    std::vector<std::vector<std::string>> rows;
    for (auto const& p : ps)
        rows.push_back(
            {p["address"].is_string() ? plain(p["address"]) : "anonymous " + plain(p["ip"]),
             plain(p["client"]), human_bytes(p.value("bytes_up", 0.0)),
             human_bytes(p.value("bytes_down", 0.0)), human("credits", p["credits"]),
             human("unpaid", p["unpaid"])});
    print_table({"COUNTERPARTY", "CLIENT", "SENT", "GOT", "CREDITS", "UNPAID"}, rows);
}

void print_ledger_summary(json const& s)
{
    json top = s;
    top.erase("torrents");
    print_object(top);
}

void print_batch(json const& b)
{
    json top = b;
    top.erase("claims");
    print_object(top);
    std::puts("");
    print_objects(b.value("claims", json::array()));
}

void print_batches(json const& bs)
{
    std::vector<std::vector<std::string>> rows;
    for (auto const& b : bs)
        rows.push_back({plain(b["id"]), plain(b["state"]), human_date(b["created"]),
                        plain(b["claim_count"]), human("amount", b["total"]), plain(b["txid"])});
    print_table({"BATCH", "STATE", "CREATED", "CLAIMS", "AMOUNT", "TXID"}, rows);
}

void print_settlement(json const& b)
{
    json top = b;
    top.erase("transaction");
    top.erase("claims");
    print_object(top);
}

void print_ids(json const& torrents)
{
    for (auto const& t : torrents)
        std::puts(short_id(t["id"]).c_str());
}

void print_top(std::map<std::string, json> const& torrents, bool tty)
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
    std::printf("seedboxctl top  %s\n", clock_time().c_str());
    print_table({"ID", "NAME", "STATE", "DONE", "DOWN", "UP", "PEERS", "ETA", "RATIO"}, rows);
    if (!tty)
        std::puts("");
    std::fflush(stdout);
}

void print_event(std::string const& m, json const& p, bool json_out)
{
    if (json_out)
        std::puts(json{{"method", m}, {"params", p}}.dump().c_str());
    else
        std::printf("%s %s %s\n", clock_time().c_str(), m.c_str(), p.dump().c_str());
}

} // namespace seedbox::ctl
