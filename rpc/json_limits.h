// Cheap structural checks run before a request body is parsed.
#pragma once

#include <cstddef>
#include <string_view>

namespace seedbox::rpc {

// Deepest array/object nesting in `text`, counting only brackets outside strings. Stops early and
// returns limit + 1 once `limit` is exceeded. Linear time, no allocation.
[[nodiscard]] std::size_t json_depth(std::string_view text, std::size_t limit);

// What parsing `text` would cost in memory, estimated from its structure: the text itself plus a
// fixed price per value and object member (a parsed `[1,1,1,...]` is ~30 times its text). Linear
// time, no allocation; the figure is meant for refusing a request before it is parsed.
[[nodiscard]] std::size_t json_parsed_bytes(std::string_view text);

} // namespace seedbox::rpc
