// torrent-* and queue-* methods: Transmission's ids and arguments turned into engine calls.
#include "rpc/base64.h"
#include "rpc/transmission/internal.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <set>

namespace seedbox::rpc::transmission {

namespace {

std::string lower(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

// The torrent one id names: a number, or an info-hash in any case.
daemon::TorrentView const* find_one(std::vector<daemon::TorrentView> const& all, json const& id)
{
    auto it = all.end();
    if (id.is_number_integer())
        it = std::find_if(all.begin(), all.end(),
                          [&](auto const& t) { return t.number == id.get<std::int64_t>(); });
    else if (id.is_string())
        it = std::find_if(all.begin(), all.end(),
                          [h = lower(id.get<std::string>())](auto const& t) { return t.id == h; });
    return it == all.end() ? nullptr : &*it;
}

json ids_of(json const& args)
{
    if (args.contains("ids"))
        return args["ids"];
    if (args.contains("id")) // Transmission accepts a single "id" too
        return args["id"];
    return json();
}

json ok()
{
    return json::object();
}

} // namespace

std::vector<daemon::TorrentView> pick(Context& ctx, json const& args,
                                      std::vector<daemon::TorrentView>* everything)
{
    auto all = value_of(ctx.engine.list({}, std::nullopt));
    json const ids = ids_of(args);
    if (ids.is_null() || ids == "recently-active") // every torrent is reported as active
        return all;
    std::vector<daemon::TorrentView> out;
    std::set<std::string> seen;
    auto add = [&](json const& id) {
        if (auto const* t = find_one(all, id); t && seen.insert(t->id).second)
            out.push_back(*t);
    };
    if (ids.is_array())
        for (auto const& id : ids)
            add(id);
    else
        add(ids);
    if (everything)
        *everything = std::move(all);
    return out;
}

std::vector<std::string> pick_ids(Context& ctx, json const& args)
{
    std::vector<std::string> out;
    for (auto const& t : pick(ctx, args))
        out.push_back(t.id);
    return out;
}

std::vector<std::string> labels_of(json const& v)
{
    if (!v.is_array())
        throw Failure("labels must be an array of strings");
    std::vector<std::string> out;
    for (auto const& l : v) {
        if (!l.is_string() || l.get<std::string>().empty())
            throw Failure("labels cannot be empty");
        auto s = l.get<std::string>();
        if (s.find(',') != std::string::npos)
            throw Failure("labels cannot contain comma (,) character");
        if (std::find(out.begin(), out.end(), s) != out.end())
            throw Failure("labels cannot contain duplicates");
        out.push_back(s);
    }
    return out;
}

bool boolean(json const& v, std::string const& key)
{
    if (v.is_boolean())
        return v.get<bool>();
    if (v.is_number_integer() && (v == 0 || v == 1))
        return v == 1;
    throw Failure(key + " must be true or false");
}

namespace {

json torrent_get(Context& ctx, json const& args)
{
    if (!args.contains("fields") || !args["fields"].is_array())
        throw Failure("no fields specified");
    std::vector<std::string> fields;
    for (auto const& f : args["fields"])
        if (f.is_string())
            fields.push_back(f.get<std::string>());
    bool const table = args.contains("format") && args["format"] == "table";
    json torrents = json::array();
    if (table) {
        json header = json::array();
        for (auto const& f : fields)
            if (known_torrent_field(f))
                header.push_back(f);
        torrents.push_back(header);
    }
    auto resolved = resolve_fields(fields);
    std::vector<daemon::TorrentView> all;
    auto const picked = pick(ctx, args, resolved.needs_session ? &all : nullptr);
    if (resolved.needs_session) // `all` is left empty when every torrent was picked
        see_session(ctx, resolved, all.empty() ? picked : all);
    for (auto const& t : picked) {
        auto obj = torrent_object(ctx, t, resolved);
        if (!table) {
            torrents.push_back(std::move(obj));
            continue;
        }
        json row = json::array();
        for (auto const& f : torrents[0])
            row.push_back(obj[f.get<std::string>()]);
        torrents.push_back(std::move(row));
    }
    json out = {{"torrents", std::move(torrents)}};
    if (args.contains("ids") && args["ids"] == "recently-active")
        out["removed"] = ctx.engine.removed_numbers();
    return out;
}

json torrent_add(Context& ctx, json const& args)
{
    daemon::AddRequest req;
    if (args.contains("metainfo") && args["metainfo"].is_string()) {
        if (!base64_decode(args["metainfo"].get<std::string>(), req.metainfo))
            throw Failure("invalid or corrupt torrent file");
    } else if (args.contains("filename") && args["filename"].is_string()) {
        auto f = args["filename"].get<std::string>();
        if (f.rfind("magnet:", 0) != 0) // a URL or a path: read on the slow pool (slow.cpp)
            f = fetch_torrent_file(ctx, f);
        if (f.rfind("magnet:", 0) == 0)
            req.magnet = std::move(f);
        else
            req.metainfo = std::move(f);
    } else {
        throw Failure("no filename or metainfo specified");
    }
    if (args.contains("download-dir") && args["download-dir"].is_string())
        req.save_path = args["download-dir"].get<std::string>();
    req.paused = args.contains("paused") && boolean(args["paused"], "paused");
    if (args.contains("labels"))
        req.labels = labels_of(args["labels"]);
    auto added = value_of(ctx.engine.add(req));
    if (added.added && req.magnet.empty())
        if (auto changes = file_changes_of(ctx, added.id, args); !changes.empty())
            check(ctx.engine.set_files(added.id, changes));
    auto view = value_of(ctx.engine.get(added.id));
    json const t = {{"id", view.number}, {"name", view.name}, {"hashString", view.id}};
    return {{added.added ? "torrent-added" : "torrent-duplicate", t}};
}

template <daemon::Status (daemon::Torrents::*Action)(std::vector<std::string> const&)>
json action(Context& ctx, json const& args)
{
    auto ids = pick_ids(ctx, args);
    if (!ids.empty())
        check((ctx.engine.*Action)(ids));
    return ok();
}

template <daemon::QueueMove To> json queue_move(Context& ctx, json const& args)
{
    auto ids = pick_ids(ctx, args);
    if (!ids.empty())
        check(ctx.engine.queue_move(ids, To));
    return ok();
}

json torrent_remove(Context& ctx, json const& args)
{
    auto ids = pick_ids(ctx, args);
    if (!ids.empty())
        check(ctx.engine.remove(ids, args.contains("delete-local-data") &&
                                         boolean(args["delete-local-data"], "delete-local-data")));
    return ok();
}

json torrent_set_location(Context& ctx, json const& args)
{
    if (!args.contains("location") || !args["location"].is_string())
        throw Failure("no location");
    if (!args.contains("move") || !boolean(args["move"], "move"))
        throw Failure("move: false (look for the data at the new place) is not supported; "
                      "send move: true");
    for (auto const& id : pick_ids(ctx, args))
        check(ctx.engine.move(id, args["location"].get<std::string>()));
    return ok();
}

// One torrent's file or folder renamed (its last component): answers the path asked for, the new
// name and the torrent's id, as Transmission does.
json torrent_rename_path(Context& ctx, json const& args)
{
    auto torrents = pick(ctx, args);
    if (torrents.size() != 1)
        throw Failure("torrent-rename-path requires 1 torrent");
    for (auto const* key : {"path", "name"})
        if (!args.contains(key) || !args[key].is_string())
            throw Failure(std::string(key) + " must be a string");
    auto const& t = torrents.front();
    (void)value_of(ctx.engine.rename_path(t.id, args["path"].get<std::string>(),
                                          args["name"].get<std::string>()));
    return {{"path", args["path"]}, {"name", args["name"]}, {"id", t.number}};
}

} // namespace

std::vector<MethodEntry> const& torrent_methods()
{
    static std::vector<MethodEntry> const t = {
        {"torrent-get", torrent_get},
        {"torrent-add", torrent_add},
        {"torrent-start", action<&daemon::Torrents::start_torrents>},
        {"torrent-start-now", action<&daemon::Torrents::start_torrents>},
        {"torrent-stop", action<&daemon::Torrents::stop_torrents>},
        {"torrent-verify", action<&daemon::Torrents::recheck>},
        {"torrent-reannounce", action<&daemon::Torrents::reannounce>},
        {"torrent-remove", torrent_remove},
        {"torrent-set-location", torrent_set_location},
        {"torrent-set", torrent_set},
        {"torrent-rename-path", torrent_rename_path},
        {"queue-move-top", queue_move<daemon::QueueMove::top>},
        {"queue-move-up", queue_move<daemon::QueueMove::up>},
        {"queue-move-down", queue_move<daemon::QueueMove::down>},
        {"queue-move-bottom", queue_move<daemon::QueueMove::bottom>},
    };
    return t;
}

} // namespace seedbox::rpc::transmission
