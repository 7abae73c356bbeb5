// Path confinement for every path that arrives over the API (or names a label's folder). Pure
// filesystem logic, any thread; nothing here blocks on a FIFO or a device.
//
// The checks hold at the moment of use: files are opened first and the object actually opened is
// checked (its type, and its real path through /proc/self/fd); directories are created one
// component at a time below an open directory, never following a symlink that appeared after the
// check.
#pragma once

#include "daemon/base/errors.h"

#include <filesystem>
#include <string>
#include <vector>

namespace seedbox::daemon {

// Where API paths may go: a relative path is taken from `base` (torrent.default_save_path), and
// every path must end up inside one of `roots` (torrent.allowed_roots). Both are absolute once
// config::Config::resolve() ran.
struct PathRules {
    std::string base;
    std::vector<std::string> roots;
};

// Resolves `requested` (absolute, or relative to rules.base) through symlinks and "..", and
// accepts it only if the result lies inside one of the roots (themselves resolved). A symlink on
// the way whose target does not exist (dangling) is refused too: it would lead wherever its
// target appears later. Errc::path_not_allowed otherwise, with a message naming the path, why,
// and the allowed roots.
[[nodiscard]] Result<std::filesystem::path> confine(std::string const& requested,
                                                    PathRules const& rules);

// True when the already resolved `real` path lies inside one of `roots` (resolved here).
[[nodiscard]] bool inside_roots(std::filesystem::path const& real,
                                std::vector<std::string> const& roots);

// Reads the regular file at `path` (confined as above) up to `max_bytes` + 1 bytes, so a caller
// can tell "too large". A FIFO, socket, device or directory is refused at once, without opening
// it for reading. Errc::path_not_allowed for confinement and type, Errc::storage_failed for I/O.
// Errc::file_not_found when nothing is there.
[[nodiscard]] Result<std::string> read_confined_file(std::string const& path,
                                                     PathRules const& rules, std::size_t max_bytes);

// Makes sure the directory `path` exists inside the roots and returns its real path. Missing
// components are created (0755 less the umask) below the deepest existing one; any component
// that is, or turns into, a symlink or a non-directory is refused.
[[nodiscard]] Result<std::filesystem::path> make_confined_dir(std::string const& path,
                                                              PathRules const& rules);

} // namespace seedbox::daemon
