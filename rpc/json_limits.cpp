#include "rpc/json_limits.h"

namespace seedbox::rpc {

namespace {

// Calls `structural(c)` for every character outside string literals.
template <class F> void outside_strings(std::string_view text, F&& structural)
{
    bool in_string = false, escaped = false;
    for (char c : text) {
        if (in_string) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
            continue;
        }
        if (c == '"')
            in_string = true;
        if (!structural(c))
            return;
    }
}

} // namespace

std::size_t json_depth(std::string_view text, std::size_t limit)
{
    std::size_t depth = 0, deepest = 0;
    outside_strings(text, [&](char c) {
        if (c == '[' || c == '{') {
            if (++depth > deepest) {
                deepest = depth;
                if (deepest > limit)
                    return false;
            }
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
        return true;
    });
    return deepest > limit ? limit + 1 : deepest;
}

std::size_t json_parsed_bytes(std::string_view text)
{
    // nlohmann::json: 16 bytes a value, plus a heap node per array slot growth, object member
    // (std::map node with its key) and string. 64 bytes a separator covers all of them.
    constexpr std::size_t kPerValue = 64;
    std::size_t separators = 1;
    outside_strings(text, [&](char c) {
        if (c == ',' || c == ':' || c == '[' || c == '{' || c == '"')
            ++separators;
        return true;
    });
    return text.size() + separators * kPerValue;
}

} // namespace seedbox::rpc
