// Cheap structural checks run before a request body is parsed.
#pragma once

#include <cstddef>
#include <string_view>

namespace seedbox::rpc {

// Deepest array/object nesting in `text`, counting only brackets outside strings. Stops early and
// returns limit + 1 once `limit` is exceeded. Linear time, no allocation.
[[nodiscard]] std::size_t json_depth(std::string_view text, std::size_t limit);

} // namespace seedbox::rpc
