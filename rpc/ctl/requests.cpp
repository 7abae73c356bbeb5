// seedboxctl's request building: id prefixes resolved against the daemon, and the params each
// subcommand sends, parsed and checked from its arguments.
#include "rpc/ctl/requests.h"

#include "rpc/base64.h"

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <iterator>

namespace seedbox::ctl {

namespace {

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

int file_index(std::string const& s)
{
    try {
        return std::stoi(s);
    } catch (std::exception const&) {
        throw CtlError(2, "not a file index: " + s);
    }
}

} // namespace

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

json call_params(std::string const& text)
{
    json p = json::object();
    if (!text.empty()) {
        p = json::parse(text, nullptr, false);
        if (p.is_discarded() || !p.is_object())
            throw CtlError(2, "params must be a JSON object, e.g. '{\"id\":\"...\"}'");
    }
    return p;
}

json add_params(Args const& a, std::string const& item)
{
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
    if (a.paused)
        p["paused"] = true;
    if (!a.labels.empty())
        p["labels"] = a.labels;
    if (!a.save_path.empty())
        p["save_path"] = a.save_path;
    return p;
}

json file_changes(Args const& a)
{
    json changes = json::array();
    for (auto const& s : a.skip)
        changes.push_back({{"index", file_index(s)}, {"wanted", false}});
    for (auto const& s : a.want)
        changes.push_back({{"index", file_index(s)}, {"wanted", true}});
    for (auto const& s : a.prio) {
        auto eq = s.find('=');
        if (eq == std::string::npos)
            throw CtlError(2, "--priority takes INDEX=0..7, not " + s);
        changes.push_back(
            {{"index", file_index(s.substr(0, eq))}, {"priority", file_index(s.substr(eq + 1))}});
    }
    return changes;
}

void add_share_limits(json& p, Args const& a)
{
    if (a.ratio)
        p["ratio_limit"] = *a.ratio;
    if (a.seed_time)
        p["seed_time_limit"] = *a.seed_time;
    if (a.idle_time)
        p["idle_limit"] = *a.idle_time;
    if (!a.action.empty())
        p["limit_action"] = a.action;
}

void add_limit_params(json& p, Args const& a)
{
    if (!a.up.empty())
        p["upload_limit"] = parse_rate(a.up);
    if (!a.down.empty())
        p["download_limit"] = parse_rate(a.down);
    if (a.max_conn != -2)
        p["max_connections"] = a.max_conn;
    add_share_limits(p, a);
    if (p.size() == 1)
        throw CtlError(2, "limits: give --up, --down, --connections, --ratio, "
                          "--seed-time, --idle or --action");
}

json create_params(Args const& a)
{
    json p = {{"path", a.path}};
    if (!a.trackers.empty())
        p["trackers"] = a.trackers;
    if (!a.comment.empty())
        p["comment"] = a.comment;
    if (a.piece_size)
        p["piece_size"] = a.piece_size;
    if (a.is_private)
        p["private"] = true;
    if (a.add_it)
        p["add"] = true;
    return p;
}

json settings_changes(std::vector<std::string> const& settings)
{
    json changes = json::object();
    for (auto const& kv : settings) {
        auto eq = kv.find('=');
        if (eq == std::string::npos)
            throw CtlError(2, "settings: expected KEY=VALUE, not " + kv);
        changes[kv.substr(0, eq)] = setting_value(kv.substr(eq + 1));
    }
    return changes;
}

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

// {number, id, timestamp}, or what a TRON node's /walletsolidity/getnowblock answers
// ({blockID, block_header.raw_data.{number, timestamp}}).
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

} // namespace seedbox::ctl
