#include "daemon/base/hooks.h"
#include "daemon/base/threads.h"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <spawn.h>
#include <sys/wait.h>
#include <thread>

namespace seedbox::daemon {

namespace {

// The thread that reaps a hook, killing its process group once `timeout` has passed.
void reap_hook(std::string const& name, pid_t pid, std::chrono::seconds timeout,
               std::string const& program)
{
    name_this_thread("sbx-hook");
    auto const deadline = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    for (;;) {
        pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR) {
            spdlog::warn("hook {}: waitpid: {}", name, std::strerror(errno));
            return;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            spdlog::warn("hook {}: {} still running after {} s: killing it", name, program,
                         timeout.count());
            ::kill(-pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        spdlog::info("hook {}: {} finished", name, program);
    else if (WIFEXITED(status))
        spdlog::warn("hook {}: {} exited with status {}", name, program, WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        spdlog::warn("hook {}: {} killed by signal {}", name, program, WTERMSIG(status));
}

} // namespace

bool run_hook(std::string const& name, std::vector<std::string> const& argv, HookEnv const& env,
              std::chrono::seconds timeout)
{
    if (argv.empty())
        return false;
    std::vector<std::string> env_strings = {"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"};
    for (auto const& [k, v] : env)
        env_strings.push_back(k + "=" + v);
    std::vector<char*> args, envp;
    for (auto const& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    for (auto const& e : env_strings)
        envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);

    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    // Its own process group, so a timeout kills what it started too; default signal handling.
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                        POSIX_SPAWN_SETPGROUP);
    pid_t pid = 0;
    int err = posix_spawn(&pid, args[0], nullptr, &attr, args.data(), envp.data());
    posix_spawnattr_destroy(&attr);
    if (err != 0) {
        spdlog::error("hook {}: cannot run {}: {}", name, argv[0], std::strerror(err));
        return false;
    }
    spdlog::info("hook {}: started {} (pid {})", name, argv[0], pid);
    std::thread(reap_hook, name, pid, timeout, argv[0]).detach();
    return true;
}

} // namespace seedbox::daemon
