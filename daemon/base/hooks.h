// Runs the operator's hook programs: argv only (posix_spawn, no shell), torrent data passed in
// environment variables, never interpolated. Each run is watched by a detached thread that reaps
// it and kills it after the timeout. The program comes only from the config file (hooks.*).
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace seedbox::daemon {

using HookEnv = std::vector<std::pair<std::string, std::string>>;

// Starts argv[0] (absolute path) with `env` added to a minimal environment (PATH, LANG). Returns
// false, logging why, if it could not be started. Any thread.
bool run_hook(std::string const& name, std::vector<std::string> const& argv, HookEnv const& env,
              std::chrono::seconds timeout);

} // namespace seedbox::daemon
