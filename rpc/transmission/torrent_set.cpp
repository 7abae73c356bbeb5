// torrent-set: Transmission's per-torrent arguments as the engine's TorrentSettings, file
// changes and tracker edits. Arguments this daemon does not know are ignored, as Transmission
// ignores them; a known one asking for what seedboxd cannot do is refused by name.
#include "rpc/transmission/internal.h"

#include <algorithm>
#include <iterator>
#include <set>

namespace seedbox::rpc::transmission {

namespace {

std::int64_t integer(json const& args, char const* key)
{
    if (!args[key].is_number_integer())
        throw Failure(std::string(key) + " must be an integer");
    return args[key].get<std::int64_t>();
}

// A speed limit in kB/s (K = 1000) and its on/off flag, as bytes/s (0 = unlimited).
std::optional<std::int64_t> limit_of(json const& args, char const* value, char const* on)
{
    if (args.contains(on) && !boolean(args[on], on))
        return 0;
    if (!args.contains(value))
        return std::nullopt;
    auto kb = integer(args, value);
    if (kb < 0 || kb > INT32_MAX / 1000)
        throw Failure(std::string(value) + " must be 0.." + std::to_string(INT32_MAX / 1000));
    return kb * 1000;
}

// seedRatioMode 0 (the session's or label's) -> -1, 2 (unlimited) -> -2, 1 -> seedRatioLimit.
std::optional<double> ratio_of(json const& args)
{
    if (args.contains("seedRatioMode")) {
        auto mode = integer(args, "seedRatioMode");
        if (mode < 0 || mode > 2)
            throw Failure("seedRatioMode must be 0, 1 or 2");
        if (mode != 1)
            return mode == 0 ? -1.0 : -2.0;
    }
    if (!args.contains("seedRatioLimit"))
        return std::nullopt;
    if (!args["seedRatioLimit"].is_number() || args["seedRatioLimit"].get<double>() < 0 ||
        args["seedRatioLimit"].get<double>() > 1e6)
        throw Failure("seedRatioLimit must be a number 0..1000000");
    return args["seedRatioLimit"].get<double>();
}

// seedIdleMode (as seedRatioMode) and seedIdleLimit in minutes: the idle limit, seconds seeding
// without uploading. Sonarr and Radarr send their indexers' seed time this way.
std::optional<std::int64_t> idle_of(json const& args)
{
    if (args.contains("seedIdleMode")) {
        auto mode = integer(args, "seedIdleMode");
        if (mode < 0 || mode > 2)
            throw Failure("seedIdleMode must be 0, 1 or 2");
        if (mode != 1)
            return mode == 0 ? -1 : -2;
    }
    if (!args.contains("seedIdleLimit"))
        return std::nullopt;
    auto minutes = integer(args, "seedIdleLimit");
    if (minutes < 0 || minutes > (1LL << 40) / 60)
        throw Failure("seedIdleLimit must be 0.." + std::to_string((1LL << 40) / 60));
    return minutes * 60;
}

void refuse_unsupported(json const& args)
{
    if (args.contains("honorsSessionLimits") &&
        !boolean(args["honorsSessionLimits"], "honorsSessionLimits"))
        throw Failure("honorsSessionLimits false is not supported by seedboxd");
    if (args.contains("bandwidthPriority") && args["bandwidthPriority"] != 0)
        throw Failure("bandwidthPriority is not supported by seedboxd (every torrent is normal)");
    if (args.contains("location"))
        throw Failure("location: use torrent-set-location");
}

daemon::TorrentSettings settings_of(json const& args)
{
    daemon::TorrentSettings s;
    s.upload_limit = limit_of(args, "uploadLimit", "uploadLimited");
    s.download_limit = limit_of(args, "downloadLimit", "downloadLimited");
    if (args.contains("peer-limit"))
        s.max_connections = integer(args, "peer-limit");
    if (args.contains("labels"))
        s.labels = labels_of(args["labels"]);
    s.ratio_limit = ratio_of(args);
    s.idle_limit = idle_of(args);
    for (auto const* key : {"sequentialDownload", "sequential_download"})
        if (args.contains(key))
            s.sequential = boolean(args[key], key);
    return s;
}

// files-wanted, files-unwanted and priority-* as file changes. Their indices are positions in
// torrent-get's files list ([] = every file), which leaves pad files out; the engine's indices
// count them. A priority leaves an unwanted file unwanted (libtorrent's priority 0 is "skip").
std::vector<daemon::FileChange> file_changes(Context& ctx, std::string const& id, json const& args)
{
    static constexpr std::pair<char const*, int> kPriorities[] = {
        {"priority-low", 1}, {"priority-normal", 4}, {"priority-high", 7}};
    static constexpr char const* kKeys[] = {"files-wanted", "files-unwanted", "priority-low",
                                            "priority-normal", "priority-high"};
    if (std::none_of(std::begin(kKeys), std::end(kKeys),
                     [&](char const* k) { return args.contains(k); }))
        return {};
    auto const files = value_of(ctx.engine.files(id));
    auto positions = [&](char const* key) {
        std::vector<daemon::FileView const*> out;
        if (!args.contains(key))
            return out;
        if (!args[key].is_array())
            throw Failure(std::string(key) + " must be an array of file indices");
        for (auto const& f : files)
            if (args[key].empty())
                out.push_back(&f);
        for (auto const& i : args[key]) {
            if (!i.is_number_integer() || i.get<std::int64_t>() < 0 ||
                i.get<std::int64_t>() >= static_cast<std::int64_t>(files.size()))
                throw Failure(std::string(key) + ": file index out of range");
            out.push_back(&files[i.get<std::size_t>()]);
        }
        return out;
    };
    std::vector<daemon::FileChange> out;
    std::set<int> wanted_now;
    for (auto const* f : positions("files-wanted")) {
        out.push_back({.index = f->index, .wanted = true});
        wanted_now.insert(f->index);
    }
    std::set<int> unwanted_now;
    for (auto const* f : positions("files-unwanted")) {
        out.push_back({.index = f->index, .wanted = false});
        unwanted_now.insert(f->index);
    }
    for (auto const& [key, prio] : kPriorities)
        for (auto const* f : positions(key))
            if ((f->wanted || wanted_now.count(f->index)) && !unwanted_now.count(f->index))
                out.push_back({.index = f->index, .priority = prio});
    return out;
}

// trackerAdd (URLs, a tier each), trackerRemove (ids: positions in torrent-get's trackers) and
// trackerList (one URL per line, a blank line between tiers).
std::optional<daemon::TrackerEdit> tracker_edit(Context& ctx, std::string const& id,
                                                json const& args)
{
    daemon::TrackerEdit edit;
    bool any = false;
    if (args.contains("trackerList")) {
        std::vector<daemon::TrackerSpec> list;
        int tier = 0;
        std::string text = args["trackerList"].get<std::string>(), line;
        for (std::size_t pos = 0; pos <= text.size();) {
            auto end = std::min(text.find('\n', pos), text.size());
            line = text.substr(pos, end - pos);
            if (!line.empty() && line.back() == '\r')
                line.pop_back();
            pos = end + 1;
            if (line.empty())
                ++tier;
            else
                list.push_back({line, tier});
        }
        edit.replace = list;
        any = true;
    }
    if (args.contains("trackerAdd")) {
        for (auto const& u : args["trackerAdd"])
            edit.add.push_back({u.get<std::string>()});
        edit.add_as_urls = any = true;
    }
    if (args.contains("trackerRemove")) {
        auto trackers = value_of(ctx.engine.trackers(id));
        for (auto const& i : args["trackerRemove"]) {
            auto n = i.get<std::int64_t>();
            if (n < 0 || n >= static_cast<std::int64_t>(trackers.size()))
                throw Failure("trackerRemove: no tracker with id " + std::to_string(n));
            edit.remove.push_back(trackers[static_cast<std::size_t>(n)].url);
        }
        any = true;
    }
    return any ? std::optional(edit) : std::nullopt;
}

} // namespace

std::vector<daemon::FileChange> file_changes_of(Context& ctx, std::string const& id,
                                                json const& args)
{
    return file_changes(ctx, id, args);
}

json torrent_set(Context& ctx, json const& args)
{
    refuse_unsupported(args);
    auto const ids = pick_ids(ctx, args);
    if (ids.empty())
        return json::object();
    check(ctx.engine.set(ids, settings_of(args)));
    for (auto const& id : ids) {
        if (auto changes = file_changes(ctx, id, args); !changes.empty())
            check(ctx.engine.set_files(id, changes));
        if (auto edit = tracker_edit(ctx, id, args))
            check(ctx.engine.set_trackers(id, *edit));
    }
    return json::object();
}

} // namespace seedbox::rpc::transmission
