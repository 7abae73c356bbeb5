// seedboxctl: the shell's client for seedboxd. Uses the same JSON-RPC API as everyone else.
// Human tables by default, --json for scripts; the URL and token come from flags, the environment
// (SEEDBOX_URL, SEEDBOX_TOKEN, SEEDBOX_TOKEN_FILE, SEEDBOX_STATE_DIR) or the daemon's state dir.
#include "rpc/ctl/client.h"
#include "rpc/ctl/commands.h"
#include "rpc/ctl/run.h"

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>

namespace {

using seedbox::ctl::Client;
using seedbox::ctl::CtlError;
using namespace seedbox::ctl; // Options, Args, Commands, ...

std::string env_or(char const* name, std::string fallback = {})
{
    char const* v = std::getenv(name);
    return v && *v ? std::string(v) : fallback;
}

bool read_first_line(std::string const& path, std::string& out)
{
    std::ifstream f(path);
    if (!f || !std::getline(f, out))
        return false;
    while (!out.empty() && (out.back() == '\r' || out.back() == ' '))
        out.pop_back();
    return !out.empty();
}

// Where the daemon's state lives: flag, SEEDBOX_STATE_DIR, then the daemon's own default (./var)
// and the systemd/Docker one.
std::vector<std::string> state_dirs(Options const& o)
{
    if (!o.state_dir.empty())
        return {o.state_dir};
    if (auto e = env_or("SEEDBOX_STATE_DIR"); !e.empty())
        return {e};
    return {"./var", "/var/lib/seedboxd"};
}

Client connect(Options const& o)
{
    std::string url = o.url.empty() ? env_or("SEEDBOX_URL") : o.url;
    std::string token = o.token.empty() ? env_or("SEEDBOX_TOKEN") : o.token;
    std::string token_file = o.token_file.empty() ? env_or("SEEDBOX_TOKEN_FILE") : o.token_file;
    std::string cacert = o.cacert.empty() ? env_or("SEEDBOX_CACERT") : o.cacert;
    if (token.empty() && !token_file.empty() && !read_first_line(token_file, token))
        throw CtlError(2, "cannot read a token from " + token_file);
    for (auto const& dir : state_dirs(o)) {
        bool any = false;
        if (token.empty())
            any |= read_first_line(dir + "/rpc.token", token);
        if (url.empty())
            any |= read_first_line(dir + "/rpc.address", url);
        if (any)
            break;
    }
    if (url.empty())
        url = "http://127.0.0.1:9180";
    return Client(seedbox::ctl::parse_url(url), token, std::chrono::seconds(o.timeout), cacert);
}

} // namespace

int main(int argc, char** argv)
{
    CLI::App app{"seedboxctl: control a seedboxd daemon over its JSON-RPC API"};
    Args a;
    Commands const cmd = define_commands(app, a);

    CLI11_PARSE(app, argc, argv);

    if (*cmd.completion) {
        std::fputs(bash_completion(app).c_str(), stdout);
        return 0;
    }

    try {
        auto c = connect(a.global);
        run_command(c, a, cmd);
    } catch (CtlError const& e) {
        std::fprintf(stderr, "seedboxctl: %s\n", e.what());
        return e.exit_code;
    } catch (std::exception const& e) {
        std::fprintf(stderr, "seedboxctl: %s\n", e.what());
        return 2;
    }
    return 0;
}
