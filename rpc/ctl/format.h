// seedboxctl's human output: sizes, rates, dates, durations, percentages and BTT amounts, chosen
// by the field's name, and aligned tables. --json bypasses all of it (exact values for scripts).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace seedbox::ctl {

using json = nlohmann::json;

[[nodiscard]] std::string human_bytes(double n);         // "1.5 GiB"
[[nodiscard]] std::string human_rate(json const& v);     // "2.0 MiB/s", "-" for 0
[[nodiscard]] std::string human_percent(json const& v);  // 0.5 -> "50.0%"
[[nodiscard]] std::string human_duration(json const& v); // 3725 -> "1h 2m", -1 -> "-"
[[nodiscard]] std::string human_date(json const& v);     // unix s (or ms) -> local time, 0 -> "-"
[[nodiscard]] std::string
human_btt(std::string const& base_units);       // "31250000000000000" -> "0.03125 BTT"
[[nodiscard]] std::string plain(json const& v); // strings bare, lists comma-joined

// A field's value as a person reads it, chosen by the field's name ("total_size", "eta",
// "added_time", "unpaid", ...); other fields print plainly.
[[nodiscard]] std::string human(std::string const& key, json const& v);

void print_table(std::vector<std::string> const& head,
                 std::vector<std::vector<std::string>> const& rows);
// "key: value" lines, nested objects flattened with dots, values through human().
void print_object(json const& obj, std::string const& prefix = "");

} // namespace seedbox::ctl
