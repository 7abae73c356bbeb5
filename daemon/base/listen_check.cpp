#include "daemon/base/listen_check.h"

#include "config/settings.h"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <cerrno>
#include <cstring>
#include <net/if.h>
#include <netinet/in.h>
#include <regex>
#include <sys/socket.h>
#include <unistd.h>

namespace seedbox::daemon {

namespace {

constexpr std::size_t kMaxListenInterfacesBytes = 4096;
constexpr std::ptrdiff_t kMaxListenEntries = 64;

std::string trim(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return std::string(s);
}

// "" when a socket can be bound to `addr` (port 0), i.e. the host has that address.
std::string bindable(boost::asio::ip::address const& addr)
{
    sockaddr_storage ss{};
    socklen_t len = 0;
    if (addr.is_v4()) {
        auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
        sin->sin_family = AF_INET;
        auto bytes = addr.to_v4().to_bytes();
        std::memcpy(&sin->sin_addr, bytes.data(), bytes.size());
        len = sizeof(sockaddr_in);
    } else {
        auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
        sin6->sin6_family = AF_INET6;
        auto bytes = addr.to_v6().to_bytes();
        std::memcpy(&sin6->sin6_addr, bytes.data(), bytes.size());
        sin6->sin6_scope_id = addr.to_v6().scope_id();
        len = sizeof(sockaddr_in6);
    }
    int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return std::string("cannot open a socket: ") + std::strerror(errno);
    int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&ss), len);
    int const err = errno;
    ::close(fd);
    if (rc == 0 || err == EACCES || err == EADDRINUSE)
        return {};
    if (err == EADDRNOTAVAIL)
        return "this host has no address " + addr.to_string();
    return "cannot bind " + addr.to_string() + ": " + std::strerror(err);
}

struct Entry {
    std::string host;
    unsigned port = 0;
    std::string error; // why the entry does not parse
};

// "ADDR:PORT", "[V6]:PORT" or "DEVICE:PORT", with libtorrent's flags after the port (s = SSL,
// l = local network only): the config's endpoint syntax once the flags are off.
Entry parse_entry(std::string entry)
{
    while (!entry.empty() && (entry.back() == 's' || entry.back() == 'l'))
        entry.pop_back();
    auto ep = config::parse_endpoint(entry);
    if (!ep)
        return {
            {}, 0, "expected ADDRESS:PORT, [IPV6]:PORT or DEVICE:PORT, the port from 0 to 65535"};
    return {ep->host, ep->port, {}};
}

std::string entry_problem(std::string const& text)
{
    auto entry = parse_entry(text);
    if (!entry.error.empty())
        return entry.error;
    boost::system::error_code aec;
    auto addr = boost::asio::ip::make_address(entry.host, aec);
    if (aec) {
        // libtorrent reads anything that is not an address as a network device name.
        if (::if_nametoindex(entry.host.c_str()) == 0)
            return "no network device or address named \"" + entry.host + "\"";
        return {};
    }
    if (addr.is_unspecified())
        return {};
    return bindable(addr);
}

// Calls fn(entry text) for each comma-separated entry; stops at the first non-empty answer.
template <class Fn> std::string each_entry(std::string const& value, Fn fn)
{
    std::size_t start = 0;
    while (start <= value.size()) {
        auto comma = value.find(',', start);
        auto entry = trim(std::string_view(value).substr(
            start, comma == std::string::npos ? std::string::npos : comma - start));
        if (auto r = fn(entry); !r.empty())
            return r;
        if (comma == std::string::npos)
            break;
        start = comma + 1;
    }
    return {};
}

} // namespace

std::string listen_interfaces_problem(std::string const& value)
{
    if (trim(value).empty())
        return "no listen address given";
    // Every entry costs a socket and a bind: the value has a declared size.
    if (value.size() > kMaxListenInterfacesBytes)
        return "longer than " + std::to_string(kMaxListenInterfacesBytes) + " bytes";
    if (std::count(value.begin(), value.end(), ',') + 1 > kMaxListenEntries)
        return "more than " + std::to_string(kMaxListenEntries) + " addresses";
    return each_entry(value, [&](std::string const& entry) -> std::string {
        if (entry.empty())
            return "an empty entry in \"" + value + "\"";
        if (auto why = entry_problem(entry); !why.empty())
            return "\"" + entry + "\": " + why;
        return {};
    });
}

std::string with_listen_port(std::string const& value, int port)
{
    static std::regex const port_re(R"(:(\d+)([sl]*)(?=\s*,|\s*$))");
    return std::regex_replace(value, port_re, ":" + std::to_string(port) + "$2");
}

bool listen_interfaces_cover(std::string const& value, boost::asio::ip::address const& addr,
                             int port)
{
    auto const found = each_entry(value, [&](std::string const& text) -> std::string {
        auto entry = parse_entry(text);
        if (!entry.error.empty() || (entry.port != 0 && static_cast<int>(entry.port) != port))
            return {};
        boost::system::error_code aec;
        auto host = boost::asio::ip::make_address(entry.host, aec);
        if (aec) // a device: any of its addresses
            return "yes";
        if (host == addr || (host.is_unspecified() && host.is_v4() == addr.is_v4()))
            return "yes";
        return {};
    });
    return !found.empty();
}

} // namespace seedbox::daemon
