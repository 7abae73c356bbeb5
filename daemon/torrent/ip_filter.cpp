// The IP filter libtorrent enforces: the blocklist (every P2P/DAT/CIDR list in
// <state_dir>/blocklists, plain or gzip, while bt.blocklist is on) and the ban list (always on,
// kept in state.db). A change replaces the whole filter; libtorrent drops connected peers the new
// one covers.
#include "daemon/base/paths.h"
#include "daemon/base/threads.h"
#include "daemon/torrent/blocklist.h"
#include "daemon/torrent/engine_impl.h"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace seedbox::daemon {

using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

// The lists in `dir`, by name: regular files whose names do not start with '.'.
std::vector<std::string> list_files(std::string const& dir)
{
    std::vector<std::string> out;
    std::error_code ec;
    for (auto const& entry : fs::directory_iterator(dir, ec)) {
        auto name = entry.path().filename().string();
        if (!name.empty() && name.front() != '.' && entry.is_regular_file(ec))
            out.push_back(std::move(name));
    }
    std::sort(out.begin(), out.end());
    return out;
}

// One ban list entry, checked: an address or a CIDR range.
Result<IpRange> ban_range(std::string const& entry)
{
    auto bad = [&entry] {
        return make_error(Errc::invalid_argument, "ban \"" + entry.substr(0, 64) +
                                                      "\": expected an address or a CIDR range");
    };
    // Only the CIDR / bare address form: no ranges ('-'), DAT fields (','), comments, spaces.
    if (entry.empty() || entry.size() > 64 ||
        entry.find_first_of("\n\r\t #-,") != std::string::npos)
        return bad();
    auto parsed = parse_blocklist(entry, 128);
    if (!parsed || parsed->ranges.size() != 1 || parsed->bad_lines != 0)
        return bad();
    return parsed->ranges.front();
}

// Writes `data` to `path` through a temporary file and a rename, synced: never half a list.
Status write_whole(fs::path const& path, std::string const& data)
{
    auto tmp = path;
    tmp += ".part";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out.write(data.data(), static_cast<std::streamsize>(data.size()));
        out.flush();
        if (!out)
            return make_error(Errc::storage_failed, "cannot write " + tmp.string());
    }
    if (auto fd = ::open(tmp.c_str(), O_RDONLY | O_CLOEXEC); fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec)
        return make_error(Errc::storage_failed,
                          "cannot write " + path.string() + ": " + ec.message());
    return Ok{};
}

} // namespace

std::string Engine::Impl::blocklist_dir() const
{
    return (fs::path(cfg.state_dir) / "blocklists").string();
}

void Engine::Impl::apply_ip_filter()
{
    lt::ip_filter f = list_info.enabled ? list_filter : lt::ip_filter();
    for (auto const& b : ban_list)
        if (auto r = ban_range(b))
            f.add_rule(r->first, r->last, lt::ip_filter::blocked);
    ses->set_ip_filter(std::move(f));
}

Result<BlocklistInfo> Engine::Impl::load_blocklist()
{
    auto const dir = blocklist_dir();
    std::error_code ec;
    fs::create_directories(dir, ec);
    lt::ip_filter filter;
    BlocklistInfo info;
    info.dir = dir;
    for (auto const& name : list_files(dir)) {
        auto data =
            read_confined_file((fs::path(dir) / name).string(), {dir, {dir}}, kBlocklistFileBytes);
        if (data && data->size() > kBlocklistFileBytes)
            data = make_error(Errc::invalid_argument,
                              "larger than " + std::to_string(kBlocklistFileBytes) + " bytes");
        auto list = data ? parse_blocklist(*data, kBlocklistTextBytes) : data.error();
        if (!list) {
            spdlog::warn("blocklist {}: {}; skipped", name, list.error().message);
            info.problems.push_back(name + ": " + list.error().message);
            continue;
        }
        add_to_filter(filter, *list);
        ++info.lists;
        info.rules += static_cast<std::int64_t>(list->rule_count());
        info.bad_lines += static_cast<std::int64_t>(list->bad_lines);
        for (auto const& p : list->first_problems)
            if (info.problems.size() < 10)
                info.problems.push_back(name + ": " + p);
    }
    info.loaded_time = now_unix();
    spdlog::info("blocklist: {} range(s) from {} list(s) in {} ({} bad line(s))", info.rules,
                 info.lists, dir, info.bad_lines);
    std::lock_guard lock(filter_mutex);
    list_filter = std::move(filter);
    info.enabled = list_info.enabled;
    list_info = info;
    if (!stopping)
        apply_ip_filter();
    return list_info;
}

void Engine::Impl::start_ip_filter()
{
    loader = std::make_unique<boost::asio::thread_pool>(1);
    name_pool_threads(*loader, 1, "sbx-blocklist");
    std::lock_guard lock(filter_mutex);
    list_info.enabled = cfg.bt.blocklist;
    list_info.dir = blocklist_dir();
    if (auto blob = store.get_blob("bans")) {
        auto j = json::parse(blob->begin(), blob->end(), nullptr, false);
        if (j.is_array())
            for (auto const& b : j)
                if (b.is_string() && ban_range(b.get<std::string>()))
                    ban_list.push_back(b.get<std::string>());
    }
    apply_ip_filter();
    if (list_info.enabled)
        boost::asio::post(*loader, [this] { (void)load_blocklist(); });
}

void Engine::Impl::blocklist_switched(bool on)
{
    std::lock_guard lock(filter_mutex);
    if (list_info.enabled == on)
        return;
    list_info.enabled = on;
    if (on && list_info.loaded_time == 0 && loader)
        boost::asio::post(*loader, [this] { (void)load_blocklist(); });
    else
        apply_ip_filter();
}

BlocklistInfo Engine::blocklist()
{
    std::lock_guard lock(impl_->filter_mutex);
    auto info = impl_->list_info;
    if (!info.enabled)
        info.rules = 0;
    info.bans = static_cast<std::int64_t>(impl_->ban_list.size());
    info.peers_blocked = impl_->peers_blocked.load();
    return info;
}

Result<BlocklistInfo> Engine::reload_blocklist()
{
    if (auto r = impl_->load_blocklist(); !r)
        return r.error();
    return blocklist();
}

Result<BlocklistInfo> Engine::store_blocklist(std::string const& data)
{
    auto list = parse_blocklist(data, kBlocklistTextBytes);
    if (!list)
        return list.error();
    if (list->rule_count() == 0)
        return make_error(Errc::invalid_argument, "the fetched blocklist has no address range");
    auto dir = fs::path(impl_->blocklist_dir());
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (auto st = write_whole(dir / "url.list", data); !st)
        return st.error();
    return reload_blocklist();
}

Result<std::vector<std::string>> Engine::ban(std::vector<std::string> const& add,
                                             std::vector<std::string> const& remove)
{
    for (auto const& a : add)
        if (auto r = ban_range(a); !r)
            return r.error();
    auto& m = *impl_;
    std::vector<std::string> list;
    {
        std::lock_guard lock(m.filter_mutex);
        list = m.ban_list;
        std::erase_if(list, [&](std::string const& b) {
            return std::find(remove.begin(), remove.end(), b) != remove.end();
        });
        for (auto const& a : add)
            if (std::find(list.begin(), list.end(), a) == list.end())
                list.push_back(a);
        if (list.size() > kMaxBans)
            return make_error(Errc::invalid_argument, "the ban list holds at most " +
                                                          std::to_string(kMaxBans) + " entries");
        auto text = json(list).dump();
        auto err = m.store.wait([&](auto done) {
            m.store.put_blob("bans", ledger::Blob(text.begin(), text.end()), std::move(done));
        });
        if (!err.empty())
            return make_error(Errc::storage_failed, "cannot store the ban list: " + err);
        m.ban_list = list;
        m.apply_ip_filter();
    }
    spdlog::info("ban list: {} entr{} (+{} -{})", list.size(), list.size() == 1 ? "y" : "ies",
                 add.size(), remove.size());
    return list;
}

std::vector<std::string> Engine::bans()
{
    std::lock_guard lock(impl_->filter_mutex);
    return impl_->ban_list;
}

} // namespace seedbox::daemon
