// A torrent engine for tests, behind the interface RPC handlers see (daemon::Torrents): the unit
// tests of the dispatcher and of Transmission's RPC, and the transmission fuzz target, share it.
//
// It holds canned torrents (none unless given; fake_torrent() makes one), each with one peer and
// one tracker, and the same two files once it has metadata; it records what it was asked to do. An
// id it does not hold is torrent_not_found, except for start_torrents, which records any id. A
// method named in `failures` ("remove", "set", ...) answers with that error instead. add() answers
// the first torrent it holds as newly added (invalid_metainfo when it holds none). Nothing blocks,
// nothing touches the disk or the network, nothing throws.
#pragma once

#include "config/settings.h"
#include "daemon/torrent/torrents.h"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace seedbox::test {

// A torrent with metadata, 300 bytes in two files, downloading into /data.
inline daemon::TorrentView fake_torrent(std::int64_t number, std::string id, std::string name)
{
    daemon::TorrentView t;
    t.id = std::move(id);
    t.number = number;
    t.name = std::move(name);
    t.state = daemon::TorrentState::downloading;
    t.total_size = 300;
    t.num_files = 2;
    t.has_metadata = true;
    t.save_path = "/data";
    return t;
}

class FakeEngine : public daemon::Torrents {
public:
    using Status = daemon::Status;
    template <class T> using Result = daemon::Result<T>;

    // What it answers with.
    std::vector<daemon::TorrentView> torrents;
    std::vector<std::int64_t> removed;               // removed_numbers()
    std::map<std::string, daemon::Error> failures{}; // method name -> its answer
    daemon::SessionStats stats{};                    // session_stats()
    daemon::SessionSettings settings{{"dht", true}}; // session_settings(); set_ merges into it
    std::vector<std::string> banned;                 // bans()
    std::map<std::string, config::LabelPolicy> label_policies{}; // labels(), all "runtime"

    // What it was asked to do.
    int lists = 0;
    std::vector<std::string> started;
    std::vector<daemon::FileChange> file_changes;
    std::optional<daemon::AddRequest> added;
    std::optional<daemon::TorrentSettings> applied; // the last set()

    FakeEngine() = default;
    explicit FakeEngine(std::vector<daemon::TorrentView> canned) : torrents(std::move(canned)) {}

    [[nodiscard]] daemon::TorrentView const* find(std::string const& id) const
    {
        auto it = std::find_if(torrents.begin(), torrents.end(),
                               [&](daemon::TorrentView const& t) { return t.id == id; });
        return it == torrents.end() ? nullptr : &*it;
    }

    Result<daemon::AddResult> add(daemon::AddRequest const& req) override
    {
        added = req;
        if (auto e = failure("add"))
            return *e;
        if (torrents.empty())
            return daemon::Error{daemon::Errc::invalid_metainfo, "fake"};
        return daemon::AddResult{torrents.front().id, torrents.front().name, true};
    }
    Status remove(std::vector<std::string> const& ids, bool) override
    {
        return known("remove", ids);
    }
    Status start_torrents(std::vector<std::string> const& ids) override
    {
        started.insert(started.end(), ids.begin(), ids.end());
        if (auto e = failure("start_torrents"))
            return *e;
        return daemon::Ok{};
    }
    Status stop_torrents(std::vector<std::string> const& ids) override
    {
        return known("stop_torrents", ids);
    }
    Status recheck(std::vector<std::string> const& ids) override { return known("recheck", ids); }
    Status reannounce(std::vector<std::string> const& ids) override
    {
        return known("reannounce", ids);
    }
    Status move(std::string const& id, std::string const&) override { return known("move", {id}); }
    Status queue_move(std::vector<std::string> const& ids, daemon::QueueMove) override
    {
        return known("queue_move", ids);
    }
    std::vector<std::int64_t> removed_numbers() override { return removed; }

    // `ids` empty: every torrent; else those it holds, in the order asked for (label ignored).
    Result<std::vector<daemon::TorrentView>> list(std::vector<std::string> const& ids,
                                                  std::optional<std::string> const&) override
    {
        ++lists;
        if (auto e = failure("list"))
            return *e;
        if (ids.empty())
            return torrents;
        std::vector<daemon::TorrentView> out;
        for (auto const& id : ids)
            if (auto const* t = find(id))
                out.push_back(*t);
        return out;
    }
    Result<daemon::TorrentView> get(std::string const& id) override
    {
        if (auto e = failure("get"))
            return *e;
        if (auto const* t = find(id))
            return *t;
        return unknown();
    }

    Result<std::vector<daemon::FileView>> files(std::string const& id) override
    {
        if (auto st = known("files", {id}); !st)
            return st.error();
        if (!find(id)->has_metadata)
            return std::vector<daemon::FileView>{};
        return std::vector<daemon::FileView>{{0, "a/one", 100, 50, 0.5, 4, true},
                                             {1, "a/two", 200, 0, 0, 0, false}};
    }
    Status set_files(std::string const& id, std::vector<daemon::FileChange> const& c) override
    {
        auto st = known("set_files", {id});
        if (st)
            file_changes = c;
        return st;
    }
    Result<std::vector<daemon::PeerConnection>> peers(std::string const& id) override
    {
        if (auto st = known("peers", {id}); !st)
            return st.error();
        daemon::PeerConnection p;
        p.ip = "192.0.2.1";
        p.port = 6881;
        p.client = "Transmission 4.1.3";
        p.connection = "utp";
        return std::vector<daemon::PeerConnection>{p};
    }
    Status add_peers(std::string const& id, std::vector<std::string> const&) override
    {
        return known("add_peers", {id});
    }
    Result<std::vector<daemon::TrackerView>> trackers(std::string const& id) override
    {
        if (auto st = known("trackers", {id}); !st)
            return st.error();
        daemon::TrackerView t;
        t.url = "https://tracker.example/announce";
        t.state.status = "working";
        return std::vector<daemon::TrackerView>{t};
    }
    Status set_trackers(std::string const& id, daemon::TrackerEdit const&) override
    {
        return known("set_trackers", {id});
    }
    Status set(std::vector<std::string> const& ids, daemon::TorrentSettings const& s) override
    {
        auto st = known("set", ids);
        if (st)
            applied = s;
        return st;
    }
    Result<std::string> rename_path(std::string const& id, std::string const&,
                                    std::string const& name) override
    {
        if (auto st = known("rename_path", {id}); !st)
            return st.error();
        return name;
    }

    Result<daemon::CreateResult> create(daemon::CreateRequest const&) override
    {
        return daemon::Error{daemon::Errc::create_failed, "fake"};
    }

    std::vector<daemon::LabelInfo> labels() override
    {
        std::vector<daemon::LabelInfo> out;
        for (auto const& [name, policy] : label_policies) {
            auto n = std::count_if(torrents.begin(), torrents.end(), [&n = name](auto const& t) {
                return std::find(t.labels.begin(), t.labels.end(), n) != t.labels.end();
            });
            out.push_back({name, policy, "runtime", static_cast<std::int64_t>(n)});
        }
        return out;
    }
    Status set_label(std::string const& name, config::LabelPolicy const& policy) override
    {
        if (auto e = failure("set_label"))
            return *e;
        if (name.empty())
            return daemon::Error{daemon::Errc::invalid_argument, "a label needs a name"};
        label_policies[name] = policy;
        return daemon::Ok{};
    }
    Status remove_label(std::string const& name) override
    {
        if (auto e = failure("remove_label"))
            return *e;
        if (label_policies.erase(name) == 0)
            return daemon::Error{daemon::Errc::invalid_argument, "no label " + name};
        return daemon::Ok{};
    }

    daemon::BlocklistInfo blocklist() override { return {}; }
    Result<daemon::BlocklistInfo> reload_blocklist() override
    {
        if (auto e = failure("reload_blocklist"))
            return *e;
        return daemon::BlocklistInfo{};
    }
    Result<daemon::BlocklistInfo> store_blocklist(std::string const&) override
    {
        if (auto e = failure("store_blocklist"))
            return *e;
        return daemon::BlocklistInfo{};
    }
    Result<std::vector<std::string>> ban(std::vector<std::string> const& add,
                                         std::vector<std::string> const& remove) override
    {
        if (auto e = failure("ban"))
            return *e;
        for (auto const& a : add)
            if (std::find(banned.begin(), banned.end(), a) == banned.end())
                banned.push_back(a);
        for (auto const& r : remove)
            banned.erase(std::remove(banned.begin(), banned.end(), r), banned.end());
        return banned;
    }
    std::vector<std::string> bans() override { return banned; }

    daemon::SessionStats session_stats() override { return stats; }
    daemon::SessionSettings session_settings() override { return settings; }
    Status set_session_settings(daemon::SessionSettings const& changes) override
    {
        if (auto e = failure("set_session_settings"))
            return *e;
        for (auto const& [key, value] : changes)
            settings[key] = value;
        return daemon::Ok{};
    }

private:
    static daemon::Error unknown() { return {daemon::Errc::torrent_not_found, "no such torrent"}; }

    [[nodiscard]] std::optional<daemon::Error> failure(std::string const& method) const
    {
        auto it = failures.find(method);
        return it == failures.end() ? std::nullopt : std::optional(it->second);
    }

    // Ok when every id is one it holds (and `method` is not made to fail).
    [[nodiscard]] Status known(std::string const& method, std::vector<std::string> const& ids)
    {
        if (auto e = failure(method))
            return *e;
        for (auto const& id : ids)
            if (!find(id))
                return unknown();
        return daemon::Ok{};
    }
};

} // namespace seedbox::test
