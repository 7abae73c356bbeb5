// App: the composition root. Wires config, state store, engine, event hub and the RPC server onto
// one io_context, handles signals, and runs until a clean shutdown. The only place rpc/ meets the
// core.
#pragma once

#include "config/settings.h"

#include <string>

namespace seedbox::daemon {

struct RunOptions {
    std::string ready_file; // receives "HOST:PORT" of the RPC listener once it accepts
};

// Runs the daemon on the calling thread; returns the process exit code.
[[nodiscard]] int run_app(config::Config const& cfg, RunOptions const& opts);

} // namespace seedbox::daemon
