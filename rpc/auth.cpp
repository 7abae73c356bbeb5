#include "rpc/auth.h"

#include <boost/asio/ip/address.hpp>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

namespace seedbox::rpc {

bool token_equal(std::string_view a, std::string_view b)
{
    if (a.size() != b.size() || a.empty())
        return false;
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string bearer_token(std::string_view h)
{
    constexpr std::string_view scheme = "Bearer ";
    if (h.size() <= scheme.size())
        return {};
    for (std::size_t i = 0; i < scheme.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(h[i])) !=
            std::tolower(static_cast<unsigned char>(scheme[i])))
            return {};
    auto t = h.substr(scheme.size());
    while (!t.empty() && (t.back() == ' ' || t.back() == '\t'))
        t.remove_suffix(1);
    return std::string(t);
}

std::string load_or_create_token(std::string const& path, std::string& token, bool& created)
{
    namespace fs = std::filesystem;
    created = false;
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) {
        if (st.st_mode & (S_IRWXG | S_IRWXO))
            return "token file " + path + " is readable by group or others; chmod 600 it";
        std::ifstream in(path);
        std::getline(in, token);
        while (!token.empty() && (token.back() == '\r' || token.back() == ' '))
            token.pop_back();
        if (token.size() < 16)
            return "token file " + path + " holds fewer than 16 characters";
        return {};
    }
    std::error_code ec;
    fs::create_directories(fs::path(path).parent_path(), ec);
    unsigned char raw[32];
    if (RAND_bytes(raw, sizeof raw) != 1)
        return "cannot generate a token: no randomness";
    static char const hex[] = "0123456789abcdef";
    token.clear();
    for (unsigned char c : raw) {
        token += hex[c >> 4];
        token += hex[c & 15];
    }
    auto tmp = path + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return "cannot create token file " + tmp + ": " + std::strerror(errno);
    auto line = token + "\n";
    bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
              ::fsync(fd) == 0;
    ::close(fd);
    if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0)
        return "cannot write token file " + path + ": " + std::strerror(errno);
    created = true;
    return {};
}

bool is_loopback_host(std::string const& host)
{
    if (host == "localhost" || host.ends_with(".localhost"))
        return true;
    boost::system::error_code ec;
    auto addr = boost::asio::ip::make_address(host, ec);
    return !ec && addr.is_loopback();
}

bool host_allowed(std::string_view host_header, std::string const& bind_host,
                  std::vector<std::string> const& extra)
{
    std::string host(host_header);
    if (host.empty())
        return false;
    if (host.front() == '[') {
        auto close = host.find(']');
        if (close == std::string::npos)
            return false;
        host = host.substr(1, close - 1);
    } else if (auto colon = host.rfind(':'); colon != std::string::npos) {
        host = host.substr(0, colon);
    }
    std::transform(host.begin(), host.end(), host.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    // An IP literal cannot be DNS-rebound; names must be loopback, the bind host or listed.
    boost::system::error_code ec;
    boost::asio::ip::make_address(host, ec);
    if (!ec || is_loopback_host(host) || host == bind_host)
        return true;
    return std::find(extra.begin(), extra.end(), host) != extra.end();
}

bool origin_allowed(std::string_view origin, std::string_view host,
                    std::vector<std::string> const& allowed)
{
    if (origin.empty())
        return true;
    if (!host.empty() &&
        (origin == "http://" + std::string(host) || origin == "https://" + std::string(host)))
        return true;
    return std::find(allowed.begin(), allowed.end(), origin) != allowed.end();
}

} // namespace seedbox::rpc
