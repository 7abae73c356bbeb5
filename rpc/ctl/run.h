// seedboxctl's subcommands at work: the one the command line chose, run against the daemon.
#pragma once

#include "rpc/ctl/client.h"
#include "rpc/ctl/commands.h"

namespace seedbox::ctl {

// Runs the parsed subcommand (all but `completion`, which needs no daemon) and prints its result;
// failures throw, a CtlError with seedboxctl's exit code.
void run_command(Client& c, Args const& a, Commands const& cmd);

} // namespace seedbox::ctl
