#include "rpc/ctl/format.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>
#include <string_view>

namespace seedbox::ctl {

namespace {

bool ends_with(std::string_view s, std::string_view tail)
{
    return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

bool one_of(std::string_view s, std::initializer_list<std::string_view> names)
{
    return std::find(names.begin(), names.end(), s) != names.end();
}

bool all_digits(std::string const& s)
{
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

} // namespace

std::string human_bytes(double n)
{
    static constexpr std::array<char const*, 6> units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    std::size_t u = 0;
    bool const negative = n < 0;
    n = negative ? -n : n;
    while (n >= 1024 && u + 1 < units.size()) {
        n /= 1024;
        ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, u == 0 ? "%s%.0f %s" : "%s%.1f %s", negative ? "-" : "", n,
                  units[u]);
    return buf;
}

std::string human_rate(json const& v)
{
    return v.is_number() && v.get<double>() > 0 ? human_bytes(v.get<double>()) + "/s" : "-";
}

std::string human_percent(json const& v)
{
    if (!v.is_number())
        return "-";
    char buf[16];
    std::snprintf(buf, sizeof buf, "%.1f%%", v.get<double>() * 100);
    return buf;
}

std::string human_duration(json const& v)
{
    if (!v.is_number_integer() || v.get<std::int64_t>() < 0)
        return "-";
    auto s = v.get<std::int64_t>();
    char buf[48];
    if (s < 60)
        std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(s));
    else if (s < 3600)
        std::snprintf(buf, sizeof buf, "%lldm %llds", static_cast<long long>(s / 60),
                      static_cast<long long>(s % 60));
    else if (s < 86400)
        std::snprintf(buf, sizeof buf, "%lldh %lldm", static_cast<long long>(s / 3600),
                      static_cast<long long>(s % 3600 / 60));
    else
        std::snprintf(buf, sizeof buf, "%lldd %lldh", static_cast<long long>(s / 86400),
                      static_cast<long long>(s % 86400 / 3600));
    return buf;
}

std::string human_date(json const& v)
{
    if (!v.is_number_integer() || v.get<std::int64_t>() <= 0)
        return "-";
    auto t = v.get<std::int64_t>();
    if (t > 100'000'000'000) // milliseconds (TRON timestamps)
        t /= 1000;
    std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    localtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

std::string human_btt(std::string const& base_units)
{
    if (!all_digits(base_units))
        return base_units;
    constexpr std::size_t decimals = 18; // BTT (TRC-20)
    std::string digits = base_units;
    if (digits.size() <= decimals)
        digits.insert(0, decimals + 1 - digits.size(), '0');
    std::string whole = digits.substr(0, digits.size() - decimals);
    std::string frac = digits.substr(digits.size() - decimals);
    while (!frac.empty() && frac.back() == '0')
        frac.pop_back();
    whole.erase(0, std::min(whole.find_first_not_of('0'), whole.size() - 1));
    // Appended piece by piece: GCC 12 at -O3 misreads "." + frac as an overlapping copy
    // (-Wrestrict, GCC bug 105329).
    std::string out = whole;
    if (!frac.empty()) {
        out += '.';
        out += frac;
    }
    out += " BTT";
    return out;
}

std::string plain(json const& v)
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
        for (auto const& e : v) {
            if (!s.empty())
                s += ',';
            s += e.is_string() ? e.get<std::string>() : e.dump();
        }
        return s.empty() ? "-" : s;
    }
    return v.dump();
}

std::string human(std::string const& key, json const& v)
{
    std::string_view k = key;
    if (auto dot = k.rfind('.'); dot != std::string_view::npos)
        k = k.substr(dot + 1);
    if (one_of(k, {"eta", "seeding_time", "active_time", "seed_time_limit", "idle_time",
                   "idle_limit", "uptime", "credit_window", "interval"}))
        return k == "eta" && v == -1 ? "unknown" : human_duration(v);
    if (ends_with(k, "_time") || one_of(k, {"time", "timestamp", "last_check", "next_run",
                                            "created", "updated", "expiration"}))
        return human_date(v);
    if (ends_with(k, "_rate") && v.is_number())
        return human_rate(v);
    if (v.is_number() &&
        (one_of(k, {"total_size", "size_when_done", "left_until_done", "downloaded", "uploaded",
                    "have_bytes", "piece_size", "size", "bytes_up", "bytes_down"}) ||
         ends_with(k, "_bytes")))
        return human_bytes(v.get<double>());
    if (k == "progress")
        return human_percent(v);
    if (v.is_string() && all_digits(v.get<std::string>()) &&
        (one_of(k, {"credits", "credits_accrued", "unpaid", "vouchered", "paid_out", "claimable",
                    "pending", "paid", "amount", "previous", "cumulative", "balance", "deposit",
                    "budget", "total", "credit_line", "min_batch_amount", "spent"}) ||
         ends_with(k, "_per_gib")))
        return human_btt(v.get<std::string>());
    return plain(v);
}

void print_table(std::vector<std::string> const& head,
                 std::vector<std::vector<std::string>> const& rows)
{
    std::vector<std::size_t> w(head.size());
    for (std::size_t i = 0; i < head.size(); ++i)
        w[i] = head[i].size();
    for (auto const& r : rows)
        for (std::size_t i = 0; i < r.size() && i < w.size(); ++i)
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

void print_object(json const& obj, std::string const& prefix)
{
    for (auto const& [k, v] : obj.items()) {
        if (v.is_object() && !v.empty())
            print_object(v, prefix + k + ".");
        else
            std::printf("%s%s: %s\n", prefix.c_str(), k.c_str(), human(k, v).c_str());
    }
}

} // namespace seedbox::ctl
