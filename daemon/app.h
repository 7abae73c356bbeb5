// App: the composition root. Wires config, state store, engine, event hub and the RPC server onto
// one io_context, handles signals, and runs until a clean shutdown. The only place rpc/ meets the
// core.
#pragma once

#include "config/settings.h"

#include <functional>
#include <string>

namespace seedbox::daemon {

struct RunOptions {
    std::string ready_file; // receives "HOST:PORT" of the RPC listener once it accepts
    // Reads the configuration again from the same sources (file, environment, flags): SIGHUP.
    std::function<config::LoadResult()> reload;
    // Forget the session settings changed over RPC (stored in state.db) before starting.
    bool reset_session_settings = false;
};

// Runs the daemon on the calling thread; returns the process exit code.
[[nodiscard]] int run_app(config::Config const& cfg, RunOptions const& opts);

} // namespace seedbox::daemon
