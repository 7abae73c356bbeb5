// Path confinement for every path that arrives over the API. Pure filesystem logic, any thread.
#pragma once

#include "daemon/errors.h"

#include <filesystem>
#include <string>
#include <vector>

namespace seedbox::daemon {

// Resolves `requested` (absolute, or relative to roots[0]) through symlinks and "..", and accepts
// it only if the result lies inside one of `roots` (themselves resolved). Errc::path_not_allowed
// otherwise, with a message naming the path and why.
[[nodiscard]] Result<std::filesystem::path> confine(std::string const& requested,
                                                    std::vector<std::string> const& roots);

} // namespace seedbox::daemon
