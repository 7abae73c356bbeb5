// seedboxctl's command line: the variables its options fill, the subcommands, and the CLI11 table
// that defines them (also the source of the bash completion script).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace seedbox::ctl {

// The global flags (they also work after the subcommand).
struct Options {
    std::string url, token, token_file, state_dir, cacert;
    int timeout = 30;
    bool json_out = false;
};

// What the subcommands' arguments and options hold after parsing. Subcommands share fields (ids,
// labels, path, amount, ...): only one of them runs.
struct Args {
    Options global;
    std::string label, save_path, method, params_text, path, output, comment, block, up, down;
    std::string action, move_id, direction, amount, peer_id;
    std::string queue_to = "top";
    std::string shell = "bash";
    std::vector<std::string> items, ids, labels, events, trackers, add_trackers, rm_trackers;
    std::vector<std::string> settings, want, skip, prio, endpoints;
    bool paused = false, delete_data = false, is_private = false, add_it = false, update = false;
    std::vector<std::string> addresses;
    std::string label_name, move_on_complete;
    bool remove_label = false;
    int count = 0, refreshes = 0;
    std::int64_t piece_size = 0, max_conn = -2;
    std::int64_t limit = 100, after = 0, batch_id = 0;
    std::optional<std::int64_t> seed_time, idle_time; // share limits: -1 default, -2 none
    std::optional<double> ratio;
};

// The subcommands, owned by the CLI::App; `*cmd.list` is true when `list` was given.
struct Commands {
    CLI::App *list, *add, *remove, *start, *stop, *recheck, *reannounce, *move, *queue, *info;
    CLI::App* files;
    CLI::App *peers, *trackers, *limits, *labels, *create, *settings, *stats;
    CLI::App *blocklist, *ban, *unban, *bans, *label;
    CLI::App *ledger, *ledger_peers, *ledger_journal, *ledger_vouchers, *ledger_verify;
    CLI::App *wallet, *wallet_balance, *wallet_deposit, *wallet_withdraw, *add_peers;
    CLI::App *settle, *settle_status, *settle_batches, *settle_batch;
    CLI::App *watch, *call, *health, *top, *completion, *ids;
};

// Defines the global options and every subcommand on app, their values bound to a (which must
// outlive the parse).
[[nodiscard]] Commands define_commands(CLI::App& app, Args& a);

// A bash completion script made from app's command table, so it cannot drift: subcommands, their
// options, and torrent id prefixes from the daemon (`seedboxctl ids`).
[[nodiscard]] std::string bash_completion(CLI::App const& app);

} // namespace seedbox::ctl
