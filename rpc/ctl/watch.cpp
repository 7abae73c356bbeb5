// seedboxctl's event loops: `watch` and `top`, fed by Client::watch; output.cpp draws the lines and
// screens they print.
#include "rpc/ctl/watch.h"

#include "rpc/ctl/output.h"

#include <chrono>
#include <cstdio>
#include <map>
#include <unistd.h>

namespace seedbox::ctl {

void run_watch(Client& c, std::vector<std::string> const& events, int count, bool json_out)
{
    int seen = 0;
    c.watch(events, [&](std::string const& m, json const& p) {
        print_event(m, p, json_out);
        std::fflush(stdout);
        return count <= 0 || ++seen < count;
    });
}

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
    print_top(torrents, tty);
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
                print_top(torrents, tty);
                return refreshes <= 0 || ++shown < refreshes;
            });
}

} // namespace seedbox::ctl
