// SIGHUP: reads the configuration again and applies what can change while running: the log
// level, the BitTorrent session settings (as if set with session.set_settings), labels, hooks
// and the watch folder. Everything else is logged as needing a restart. What each key does comes
// from the config key table (config::Apply). A configuration that does not load or validate
// changes nothing.
#pragma once

#include "config/settings.h"

#include <functional>
#include <string>
#include <vector>

namespace seedbox::daemon {

class Engine;
class WatchDir;

// Keys whose value differs between two configurations ("bt.upload_rate_limit", ...).
[[nodiscard]] std::vector<std::string> changed_keys(config::Config const& a,
                                                    config::Config const& b);

// Every label's move_on_complete must lie inside torrent.allowed_roots, like any API path (it is
// created if missing). Error text or empty.
[[nodiscard]] std::string check_label_paths(config::Config const& cfg);

// Blocks on state.db and libtorrent: never on the io thread. `current` is the running
// configuration, updated with what was applied.
void reload(config::Config& current, std::function<config::LoadResult()> const& read,
            Engine& engine, WatchDir& watch);

} // namespace seedbox::daemon
