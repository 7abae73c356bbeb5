// seedboxctl's command table: the global options and every subcommand with its options, as
// CLI11 definitions, and the bash completion script made from them.
#include "rpc/ctl/commands.h"

namespace seedbox::ctl {

namespace {

void define_global_options(CLI::App& app, Options& o)
{
    app.add_option("--url", o.url,
                   "daemon URL, http://HOST:PORT, or https://HOST[:PORT] through a TLS proxy "
                   "(env SEEDBOX_URL; default: <state dir>/rpc.address, else "
                   "http://127.0.0.1:9180)");
    app.add_option("--cacert", o.cacert,
                   "PEM certificates to trust for https beside the system store (env "
                   "SEEDBOX_CACERT)");
    app.add_option("--token", o.token, "bearer token (env SEEDBOX_TOKEN)");
    app.add_option("--token-file", o.token_file,
                   "read the token from a file (env SEEDBOX_TOKEN_FILE)");
    app.add_option("--state-dir", o.state_dir,
                   "the daemon's state dir, for rpc.token and rpc.address (env SEEDBOX_STATE_DIR; "
                   "default ./var, then /var/lib/seedboxd)");
    app.add_option("--timeout", o.timeout, "seconds to wait for an answer")
        ->check(CLI::Range(1, 3600));
    app.add_flag("--json", o.json_out, "print the JSON result (for scripts)");
}

// list, add, remove, start, stop, recheck, reannounce, move, queue, info.
void define_torrent_commands(CLI::App& app, Args& a, Commands& cmd)
{
    cmd.list = app.add_subcommand("list", "list torrents, with totals");
    cmd.list->add_option("--label", a.label, "only torrents with this label");
    cmd.add = app.add_subcommand("add", "add .torrent files, magnet links or http(s) URLs");
    cmd.add->add_option("items", a.items, "FILE.torrent, magnet:?..., or http(s)://...")
        ->required();
    cmd.add->add_flag("--paused", a.paused, "add stopped");
    cmd.add->add_option("--label", a.labels, "label (repeatable)");
    cmd.add->add_option("--save-path", a.save_path,
                        "download directory (inside the allowed roots; relative = below the "
                        "downloads folder)");
    cmd.remove = app.add_subcommand("remove", "remove torrents");
    cmd.remove->add_option("ids", a.ids, "torrent ids (a unique prefix is enough)")->required();
    cmd.remove->add_flag("--delete-data", a.delete_data, "also delete the downloaded files");
    cmd.start = app.add_subcommand("start", "start torrents");
    cmd.start->add_option("ids", a.ids, "torrent ids")->required();
    cmd.stop = app.add_subcommand("stop", "stop torrents");
    cmd.stop->add_option("ids", a.ids, "torrent ids")->required();
    cmd.recheck = app.add_subcommand("recheck", "check torrents' data against their hashes");
    cmd.recheck->add_option("ids", a.ids, "torrent ids")->required();
    cmd.reannounce = app.add_subcommand("reannounce", "announce to the trackers now");
    cmd.reannounce->add_option("ids", a.ids, "torrent ids")->required();
    cmd.move = app.add_subcommand("move", "move a torrent's data to another directory");
    cmd.move->add_option("id", a.move_id, "torrent id")->required();
    cmd.move->add_option("path", a.path, "target directory (relative = below the downloads folder)")
        ->required();
    cmd.queue = app.add_subcommand("queue", "move torrents in the download queue");
    cmd.queue->add_option("ids", a.ids, "torrent ids")->required();
    cmd.queue->add_option("--to", a.queue_to, "top (default), up, down or bottom")
        ->check(CLI::IsMember({"top", "up", "down", "bottom"}));
    cmd.info = app.add_subcommand("info", "everything about one torrent");
    cmd.info->add_option("id", a.ids, "torrent id")->required()->expected(1);
}

// files, peers, trackers, limits, labels, create.
void define_torrent_detail_commands(CLI::App& app, Args& a, Commands& cmd)
{
    cmd.files =
        app.add_subcommand("files", "a torrent's files; --skip/--want/--priority change them");
    cmd.files->add_option("id", a.ids, "torrent id")->required()->expected(1);
    cmd.files->add_option("--skip", a.skip, "file indexes not to download (repeatable)");
    cmd.files->add_option("--want", a.want, "file indexes to download again (repeatable)");
    cmd.files->add_option("--priority", a.prio, "INDEX=0..7 (repeatable)");
    cmd.peers = app.add_subcommand("peers", "connected peers of a torrent");
    cmd.peers->add_option("id", a.ids, "torrent id")->required()->expected(1);
    cmd.trackers =
        app.add_subcommand("trackers", "a torrent's trackers; --add/--remove change them");
    cmd.trackers->add_option("id", a.ids, "torrent id")->required()->expected(1);
    cmd.trackers->add_option("--add", a.add_trackers, "announce URL to add (repeatable)");
    cmd.trackers->add_option("--remove", a.rm_trackers, "announce URL to remove (repeatable)");
    cmd.limits = app.add_subcommand("limits", "per-torrent rate, connection and share limits");
    cmd.limits->add_option("ids", a.ids, "torrent ids")->required();
    cmd.limits->add_option("--up", a.up, "upload limit, e.g. 800k or 1.5M (0 = unlimited)");
    cmd.limits->add_option("--down", a.down, "download limit (0 = unlimited)");
    cmd.limits->add_option("--connections", a.max_conn, "peer connections (-1 = unlimited)");
    cmd.limits->add_option("--ratio", a.ratio,
                           "share ratio limit (-1 = the label's or the default, -2 = none)");
    cmd.limits->add_option("--seed-time", a.seed_time, "seconds of seeding (-1, -2 as --ratio)");
    cmd.limits->add_option("--idle", a.idle_time,
                           "seconds seeding without uploading (-1, -2 as --ratio)");
    cmd.limits->add_option("--action", a.action, "at a limit: stop, remove or remove_data")
        ->check(CLI::IsMember({"stop", "remove", "remove_data"}));
    cmd.labels = app.add_subcommand("labels", "replace torrents' labels");
    cmd.labels->add_option("ids", a.ids, "torrent ids")->required();
    cmd.labels->add_option("--set", a.labels, "label (repeatable; none = no labels)");
    cmd.create = app.add_subcommand("create", "make a .torrent of a file or folder on the server");
    cmd.create->add_option("path", a.path, "file or folder (relative = below the downloads folder)")
        ->required();
    cmd.create->add_option("-o,--output", a.output, "write the .torrent here");
    cmd.create->add_option("--tracker", a.trackers, "announce URL (repeatable)");
    cmd.create->add_option("--comment", a.comment, "comment");
    cmd.create->add_option("--piece-size", a.piece_size, "bytes, a power of two (0 = automatic)");
    cmd.create->add_flag("--private", a.is_private, "set the private flag");
    cmd.create->add_flag("--add", a.add_it, "add it and seed from the same data");
}

// settings, stats, ledger (peers, journal, vouchers, verify), wallet (balance, deposit, withdraw).
void define_session_commands(CLI::App& app, Args& a, Commands& cmd)
{
    cmd.settings = app.add_subcommand("settings", "session settings; KEY=VALUE changes them");
    cmd.settings->add_option("changes", a.settings, "e.g. upload_rate_limit=1048576 dht=false");
    cmd.stats = app.add_subcommand("stats", "session statistics");
    cmd.blocklist =
        app.add_subcommand("blocklist", "the IP blocklist; --update fetches and reloads");
    cmd.blocklist->add_flag("--update", a.update,
                            "fetch blocklist_url (if set) and read the blocklists folder again");
    cmd.ban = app.add_subcommand("ban", "never connect these addresses or CIDR ranges");
    cmd.ban->add_option("addresses", a.addresses, "e.g. 192.0.2.7 2001:db8::/32")->required();
    cmd.unban = app.add_subcommand("unban", "lift bans");
    cmd.unban->add_option("addresses", a.addresses, "as `bans` lists them")->required();
    cmd.bans = app.add_subcommand("bans", "the ban list");
    cmd.label = app.add_subcommand("label", "labels; with NAME and options, create or change one");
    cmd.label->add_option("name", a.label_name, "label to create, change or remove");
    cmd.label->add_option("--save-path", a.save_path, "where torrents added with it go");
    cmd.label->add_option("--move-on-complete", a.move_on_complete, "absolute folder, \"\" = stay");
    cmd.label->add_option("--ratio", a.ratio, "share ratio limit (-1 = none)");
    cmd.label->add_option("--seed-time", a.seed_time, "seconds of seeding (-1 = none)");
    cmd.label->add_option("--idle", a.idle_time, "seconds seeding without uploading (-1 = none)");
    cmd.label->add_option("--action", a.action, "at a limit: stop, remove or remove_data")
        ->check(CLI::IsMember({"stop", "remove", "remove_data"}));
    cmd.label->add_flag("--remove", a.remove_label, "remove the label (one made at run time)");
    cmd.ledger = app.add_subcommand("ledger", "incentive ledger: totals, or per peer");
    cmd.ledger_peers = cmd.ledger->add_subcommand("peers", "per counterparty");
    cmd.ledger_journal =
        cmd.ledger->add_subcommand("journal", "the append-only journal, oldest first");
    cmd.ledger_journal->add_option("--limit", a.limit, "entries")->check(CLI::Range(1, 1000));
    cmd.ledger_journal->add_option("--after", a.after, "id of the last entry already seen");
    cmd.ledger_vouchers =
        cmd.ledger->add_subcommand("vouchers", "payment vouchers kept and issued");
    cmd.ledger_vouchers->add_option("--direction", a.direction, "received or issued")
        ->check(CLI::IsMember({"received", "issued"}));
    cmd.ledger_verify =
        cmd.ledger->add_subcommand("verify", "replay the journal and check the ledger");
    cmd.wallet =
        app.add_subcommand("wallet", "the daemon's TRON address; balance, deposit, withdraw");
    cmd.wallet_balance =
        cmd.wallet->add_subcommand("balance", "TRX, BTT and hub deposit (broadcast mode)");
    cmd.wallet_deposit =
        cmd.wallet->add_subcommand("deposit", "deposit BTT in the claim hub (broadcast mode)");
    cmd.wallet_deposit->add_option("amount", a.amount, "BTT, e.g. 20 or 0.5")->required();
    cmd.wallet_withdraw = cmd.wallet->add_subcommand(
        "withdraw", "with AMOUNT: ask for BTT back from the hub; without: take it after the delay");
    cmd.wallet_withdraw->add_option("amount", a.amount, "BTT, e.g. 20 or 0.5");
}

// add-peers, settle (status, batches, batch), watch, call, health, top, completion, ids.
void define_other_commands(CLI::App& app, Args& a, Commands& cmd)
{
    cmd.add_peers = app.add_subcommand("add-peers", "connect a torrent to peers IP:PORT");
    cmd.add_peers->add_option("id", a.peer_id, "torrent id")->required();
    cmd.add_peers->add_option("peers", a.endpoints, "IP:PORT or [IPv6]:PORT")->required();
    cmd.settle = app.add_subcommand("settle", "build (and in broadcast mode send) a settlement "
                                              "batch now");
    cmd.settle->add_option("--block", a.block,
                           "offline mode: the TaPoS reference block, a file (or - for stdin) "
                           "holding a node's /walletsolidity/getnowblock answer or {number, id, "
                           "timestamp}");
    cmd.settle_status = cmd.settle->add_subcommand("status", "settlement state, no action");
    cmd.settle_batches = cmd.settle->add_subcommand("batches", "settlement batches, newest first");
    cmd.settle_batch =
        cmd.settle->add_subcommand("batch", "one batch with its claims and signed hex");
    cmd.settle_batch->add_option("id", a.batch_id, "batch id")->required();
    cmd.watch = app.add_subcommand("watch", "print events as they happen (Ctrl-C to stop)");
    cmd.watch->add_option("events", a.events, "event names (default: all)");
    cmd.watch->add_option("--count", a.count, "exit after this many events");
    cmd.call = app.add_subcommand("call", "call any JSON-RPC method");
    cmd.call->add_option("method", a.method, "method name (see rpc.discover)")->required();
    cmd.call->add_option("params", a.params_text,
                         "params as a JSON object (\"id\"/\"ids\" may be id prefixes)");
    cmd.health = app.add_subcommand("health", "exit 0 when the daemon answers GET /healthz");
    cmd.top = app.add_subcommand("top", "live view of the torrents, refreshed from events");
    cmd.top->add_option("--count", a.refreshes, "exit after this many screens (0 = until Ctrl-C)");
    cmd.completion = app.add_subcommand("completion", "print the bash completion script");
    cmd.completion->add_option("shell", a.shell, "bash")->check(CLI::IsMember({"bash"}));
    cmd.ids = app.add_subcommand("ids", "print id prefixes, one a line (for completion)");
    cmd.ids->group(""); // hidden
}

} // namespace

Commands define_commands(CLI::App& app, Args& a)
{
    // Before the subcommands: they inherit the subcommand limit and fallthrough from app.
    app.require_subcommand(1);
    app.fallthrough(); // global flags also after the subcommand: seedboxctl list --json
    define_global_options(app, a.global);
    // The order of definition is the order of --help and of the completion script.
    Commands cmd{};
    define_torrent_commands(app, a, cmd);
    define_torrent_detail_commands(app, a, cmd);
    define_session_commands(app, a, cmd);
    define_other_commands(app, a, cmd);
    return cmd;
}

std::string bash_completion(CLI::App const& app)
{
    std::string subs, cases;
    std::string globals;
    for (auto const* opt : app.get_options())
        for (auto const& name : opt->get_lnames())
            globals += " --" + name;
    for (auto const* sub : app.get_subcommands({})) {
        if (sub->get_group().empty())
            continue;
        subs += " " + sub->get_name();
        std::string words;
        for (auto const* opt : sub->get_options())
            for (auto const& name : opt->get_lnames())
                if (name != "help")
                    words += " --" + name;
        for (auto const* nested : sub->get_subcommands({}))
            words += " " + nested->get_name();
        cases += "        " + sub->get_name() + ") words=\"" + words + globals + "\" ;;\n";
    }
    return "# bash completion for seedboxctl: source <(seedboxctl completion bash)\n"
           "_seedboxctl() {\n"
           "    local cur=${COMP_WORDS[COMP_CWORD]} cmd=\"\" words w\n"
           "    for w in \"${COMP_WORDS[@]:1:COMP_CWORD-1}\"; do\n"
           "        case $w in -*) ;; *) [ -z \"$cmd\" ] && cmd=$w ;; esac\n"
           "    done\n"
           "    if [ -z \"$cmd\" ]; then\n"
           "        COMPREPLY=($(compgen -W \"" +
           subs + globals +
           "\" -- \"$cur\"))\n"
           "        return\n"
           "    fi\n"
           "    case $cmd in\n" +
           cases + "        *) words=\"" + globals +
           "\" ;;\n"
           "    esac\n"
           "    case $cmd in\n"
           "        "
           "remove|start|stop|recheck|reannounce|move|queue|info|files|peers|trackers|limits|"
           "labels)\n"
           "            [[ $cur != -* ]] && words=\"$words $(seedboxctl ids 2>/dev/null)\" ;;\n"
           "    esac\n"
           "    COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
           "}\n"
           "complete -o default -F _seedboxctl seedboxctl\n";
}

} // namespace seedbox::ctl
