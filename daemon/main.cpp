// seedboxd entry point: flags, environment and config file -> Config, logging, then run_app().
#include "config/password_hash.h"
#include "config/settings.h"
#include "daemon/app.h"

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <termios.h>
#include <unistd.h>

extern char** environ;

namespace {

// "<N>" syslog priority prefix: journald strips it and files the line under that priority, so
// `journalctl -p warning -u seedboxd` works.
class SyslogPriority final : public spdlog::custom_flag_formatter {
public:
    void format(spdlog::details::log_msg const& msg, std::tm const&,
                spdlog::memory_buf_t& dest) override
    {
        static char const* const kPrefix[] = {"<7>", "<7>", "<6>", "<4>", "<3>", "<2>", "<6>"};
        auto const level = static_cast<std::size_t>(msg.level);
        std::string_view p = kPrefix[level < 7 ? level : 6];
        dest.append(p.data(), p.data() + p.size());
    }
    std::unique_ptr<custom_flag_formatter> clone() const override
    {
        return std::make_unique<SyslogPriority>();
    }
};

void setup_logging(std::string const& level)
{
    auto logger = spdlog::stderr_color_mt("seedboxd");
    // Under systemd the journal timestamps each line; don't print a second one.
    if (std::getenv("JOURNAL_STREAM")) {
        auto f = std::make_unique<spdlog::pattern_formatter>();
        f->add_flag<SyslogPriority>('*').set_pattern("%*[%l] %v");
        logger->set_formatter(std::move(f));
    } else
        logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
    logger->set_level(spdlog::level::from_str(level));
    logger->flush_on(spdlog::level::info);
    spdlog::set_default_logger(logger);
}

// The command line: each option's value, as given (empty or false when absent).
struct Flags {
    std::string config_file, state_dir, rpc_bind, ready_file, log_level;
    std::vector<std::string> sets;
    bool print_config = false, help_config = false;
    bool reset_session_settings = false;
    bool hash_password = false;
};

void add_flags(CLI::App& app, Flags& f)
{
    app.set_version_flag("--version", std::string("seedboxd ") + SEEDBOXD_VERSION);
    app.add_option("-c,--config", f.config_file, "JSON config file (comments allowed)");
    app.add_option("--state-dir", f.state_dir, "state directory (state_dir)");
    app.add_option("--rpc-bind", f.rpc_bind,
                   "RPC listen address HOST:PORT, port 0 = any (rpc.bind)");
    app.add_option("--ready-file", f.ready_file,
                   "write the bound RPC HOST:PORT here once listening");
    app.add_option("--log-level", f.log_level, "trace|debug|info|warn|error|off (log_level)");
    app.add_option("--set", f.sets, "KEY=VALUE for any config key, e.g. --set bt.dht=true");
    app.add_flag("--reset-session-settings", f.reset_session_settings,
                 "forget the session settings changed over RPC (kept in state.db) and start "
                 "from the configuration's values");
    app.add_flag("--print-config", f.print_config, "print the effective configuration and exit");
    app.add_flag("--help-config", f.help_config, "list every config key and exit");
    app.add_flag("--hash-password", f.hash_password,
                 "read a password from stdin (asked twice, unechoed, on a terminal) and print "
                 "its hash for transmission.password");
}

// The terminal's settings while a password is read unechoed, restored on the way out: also when
// Ctrl-C or a kill ends the prompt (tcsetattr is async-signal-safe).
termios g_saved_terminal{};

extern "C" void restore_terminal_and_exit(int sig)
{
    tcsetattr(STDIN_FILENO, TCSANOW, &g_saved_terminal);
    _exit(128 + sig);
}

// One line from stdin, without its newline; unechoed after `prompt` (on stderr) when stdin is a
// terminal. Empty when there is none.
std::string read_password(char const* prompt)
{
    bool const quiet = isatty(STDIN_FILENO) == 1 && tcgetattr(STDIN_FILENO, &g_saved_terminal) == 0;
    if (quiet) {
        std::fputs(prompt, stderr);
        for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP})
            std::signal(sig, restore_terminal_and_exit);
        termios unechoed = g_saved_terminal;
        unechoed.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        tcsetattr(STDIN_FILENO, TCSANOW, &unechoed);
    }
    std::string line;
    std::getline(std::cin, line);
    if (quiet) {
        tcsetattr(STDIN_FILENO, TCSANOW, &g_saved_terminal);
        std::fputs("\n", stderr);
    }
    if (!line.empty() && line.back() == '\r')
        line.pop_back();
    return line;
}

// --hash-password: prints the scrypt hash of the password read from stdin.
int print_password_hash()
{
    auto const password = read_password("Password: ");
    if (password.empty() || password.size() > 1024) {
        std::fprintf(stderr, "seedboxd: the password must be 1 to 1024 bytes\n");
        return 2;
    }
    if (isatty(STDIN_FILENO) == 1 && read_password("Again: ") != password) {
        std::fprintf(stderr, "seedboxd: the passwords differ\n");
        return 2;
    }
    try {
        std::printf("%s\n", seedbox::config::hash_password(password).c_str());
    } catch (std::exception const& e) {
        std::fprintf(stderr, "seedboxd: cannot hash the password: %s\n", e.what());
        return 1;
    }
    return 0;
}

// --help-config: one line per key of the key table.
void print_config_keys()
{
    namespace config = seedbox::config;
    for (auto const& k : config::keys()) {
        std::string allowed;
        if (k.min && k.max)
            allowed = "; " + std::to_string(*k.min) + " to " + std::to_string(*k.max);
        for (std::size_t i = 0; i < k.choices.size(); ++i)
            allowed += (i == 0 ? "; one of " : ", ") + k.choices[i];
        // A file-only key (hooks.on_complete: a program to run) is refused from the
        // environment and --set, so no variable is offered for it.
        auto where =
            k.file_only ? std::string("config file only") : "env " + config::env_name(k.name);
        if (k.apply == config::Apply::reload)
            where += "; SIGHUP";
        else if (k.apply == config::Apply::session)
            where += "; SIGHUP, session.set_settings";
        std::printf("%-28s %-9s default %-24s %s%s (%s)\n", k.name.c_str(), k.type.c_str(),
                    k.default_value.dump().c_str(), k.help.c_str(), allowed.c_str(), where.c_str());
    }
}

// Where the configuration comes from: SEEDBOXD_* variables, the config file, then the flags.
// Empty (after saying why on stderr) when a --set is not KEY=VALUE.
std::optional<seedbox::config::Sources> config_sources(Flags const& flags)
{
    seedbox::config::Sources sources;
    for (char** e = environ; *e; ++e) {
        std::string_view kv(*e);
        if (kv.rfind("SEEDBOXD_", 0) != 0)
            continue;
        auto eq = kv.find('=');
        sources.env.emplace_back(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
    }
    if (!flags.config_file.empty())
        sources.config_file = flags.config_file;
    else if (auto const* env_cfg = std::getenv("SEEDBOXD_CONFIG"))
        sources.config_file = env_cfg;
    for (auto const& s : flags.sets) {
        auto eq = s.find('=');
        if (eq == std::string::npos) {
            std::fprintf(stderr, "seedboxd: --set %s: expected KEY=VALUE\n", s.c_str());
            return std::nullopt;
        }
        sources.overrides.emplace_back(s.substr(0, eq), s.substr(eq + 1));
    }
    if (!flags.state_dir.empty())
        sources.overrides.emplace_back("state_dir", flags.state_dir);
    if (!flags.rpc_bind.empty())
        sources.overrides.emplace_back("rpc.bind", flags.rpc_bind);
    if (!flags.log_level.empty())
        sources.overrides.emplace_back("log_level", flags.log_level);
    return sources;
}

} // namespace

int main(int argc, char** argv)
{
    using namespace seedbox;
    CLI::App app{"seedboxd: a headless BitTorrent seedbox daemon with a JSON-RPC 2.0 API"};
    Flags flags;
    add_flags(app, flags);
    CLI11_PARSE(app, argc, argv);

    if (flags.help_config) {
        print_config_keys();
        return 0;
    }
    if (flags.hash_password)
        return print_password_hash();
    auto const sources = config_sources(flags);
    if (!sources)
        return 2;
    auto loaded = config::load(*sources);
    if (!loaded.config) {
        std::fprintf(stderr, "seedboxd: configuration error: %s\n", loaded.error.c_str());
        return 2;
    }
    if (flags.print_config) {
        std::printf("%s\n", config::to_json(*loaded.config).dump(2).c_str());
        return 0;
    }
    setup_logging(loaded.config->log_level);
    return daemon::run_app(*loaded.config, {flags.ready_file,
                                            [sources = *sources] { return config::load(sources); },
                                            flags.reset_session_settings});
}
