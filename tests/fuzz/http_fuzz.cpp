// The whole RPC front door with hostile bytes: the daemon runs in this process on its real code
// path (run_app: Beast's header-first parser with the header/trailer budget, chunked bodies,
// Host/Origin checks, the wrong-token brake, the bearer token, WebSocket upgrades and frames,
// /healthz, /metrics, JSON-RPC dispatch to the real method table and a real engine), and each
// input is what one TCP client sends before it closes its side. The seed corpus holds signed-in
// requests (the token below), so mutations reach the methods.
// Checks beyond "no crash": the daemon is still accepting after every input, and every answer it
// writes starts with an HTTP/1.1 status line.
//
// The fuzzer invents URLs, trackers and settings (bt.dht): the process moves itself into a network
// namespace of its own with only loopback up before the daemon starts, and refuses to run if it
// cannot, so nothing it does leaves this machine.
#include "config/settings.h"
#include "daemon/app.h"
#include "tests/fuzz/fuzz.h"

#include <spdlog/spdlog.h>

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace seedbox;

namespace {

constexpr char kToken[] = "fuzz-token-0123456789abcdef"; // the seed corpus signs in with it

[[noreturn]] void die(char const* what)
{
    std::fprintf(stderr, "http_fuzz: %s: %s\n", what, std::strerror(errno));
    std::_Exit(2);
}

bool write_file(char const* path, std::string const& text)
{
    int fd = ::open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ::close(fd);
    return ok;
}

// A network namespace with only loopback, entered before any thread exists.
void isolate_network()
{
    uid_t const uid = ::geteuid();
    gid_t const gid = ::getegid();
    if (uid == 0) {
        if (::unshare(CLONE_NEWNET) != 0)
            die("unshare(CLONE_NEWNET) (refusing to fuzz with the host's network)");
    } else {
        if (::unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0)
            die("unshare(CLONE_NEWUSER|CLONE_NEWNET) (refusing to fuzz with the host's network)");
        // The same ids inside, so the files the daemon creates keep their owner.
        if (!write_file("/proc/self/setgroups", "deny") ||
            !write_file("/proc/self/uid_map",
                        std::to_string(uid) + " " + std::to_string(uid) + " 1") ||
            !write_file("/proc/self/gid_map",
                        std::to_string(gid) + " " + std::to_string(gid) + " 1"))
            die("writing the user namespace's id maps");
    }
    int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    if (s < 0 || ::ioctl(s, SIOCGIFFLAGS, &ifr) != 0)
        die("reading lo's flags");
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (::ioctl(s, SIOCSIFFLAGS, &ifr) != 0)
        die("bringing lo up");
    ::close(s);
}

std::uint16_t port = 0;
unsigned clients = 0;

std::uint16_t start_daemon()
{
    auto dir = fs::temp_directory_path() / ("sbx-fuzz-http-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    config::Sources src;
    src.overrides = {
        {"state_dir", dir.string()},
        {"rpc.bind", "127.0.0.1:0"},
        {"rpc.token", kToken},
        // The brake is per address and clients rotate over 127.0.0.0/24; keep it from ending
        // every signed-in request in 429 after the fuzzer's first thousand wrong tokens.
        {"rpc.auth_failures", "100000"},
        {"rpc.auth_timeout", "2"},
        {"rpc.max_body_bytes", "1048576"},
        {"bt.listen_interfaces", "127.0.0.1:0"},
        {"torrent.url_timeout", "2"},
    };
    auto loaded = config::load(src);
    if (!loaded.config) {
        std::fprintf(stderr, "http_fuzz: config: %s\n", loaded.error.c_str());
        std::_Exit(2);
    }
    static config::Config cfg = *loaded.config;
    static daemon::RunOptions opts;
    opts.ready_file = (dir / "ready").string();
    std::thread([] { std::_Exit(daemon::run_app(cfg, opts) == 0 ? 0 : 3); }).detach();
    auto const deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    std::string bound;
    while (std::chrono::steady_clock::now() < deadline) {
        std::ifstream in(opts.ready_file);
        if (in && std::getline(in, bound) && !bound.empty())
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    auto colon = bound.rfind(':');
    if (colon == std::string::npos) {
        std::fprintf(stderr, "http_fuzz: the daemon did not start within 60 s\n");
        std::_Exit(2);
    }
    return static_cast<std::uint16_t>(std::stoi(bound.substr(colon + 1)));
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    isolate_network();
    spdlog::set_level(spdlog::level::off);
    port = start_daemon();
    // The daemon thread never returns; leave without running destructors under it.
    std::atexit([] { std::_Exit(0); });
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size)
{
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    FUZZ_CHECK(fd >= 0);
    // A different loopback address per client, as many clients would come from.
    sockaddr_in from{};
    from.sin_family = AF_INET;
    from.sin_addr.s_addr = htonl(0x7f000001u + (clients++ % 250));
    (void)::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from);
    int one = 1; // no Nagle delay between the client's last bytes and its close
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    timeval tv{2, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(0x7f000001u);
    // The daemon must still accept: a refused connection means it died or stopped listening.
    FUZZ_CHECK(::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0);
    std::size_t sent = 0;
    while (sent < size) {
        auto n = ::send(fd, data + sent, size - sent, MSG_NOSIGNAL);
        if (n <= 0)
            break; // the daemon closed early (a refusal): fine
        sent += static_cast<std::size_t>(n);
    }
    ::shutdown(fd, SHUT_WR);
    char buf[16384];
    std::string head;
    std::size_t total = 0;
    for (;;) {
        auto n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0)
            break;
        if (head.size() < 9)
            head.append(buf, std::min(static_cast<std::size_t>(n), 9 - head.size()));
        total += static_cast<std::size_t>(n);
        if (total > (64u << 20))
            break;
    }
    ::close(fd);
    if (!head.empty())
        FUZZ_CHECK(head.rfind("HTTP/1.1 ", 0) == 0 || head.rfind("HTTP/1.0 ", 0) == 0);
    return 0;
}
