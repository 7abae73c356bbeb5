#include "ledger/key_file.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

namespace seedbox::ledger {

namespace {

std::string read_small(int fd)
{
    std::string data(200, '\0');
    auto n = ::read(fd, data.data(), data.size());
    data.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return data;
}

} // namespace

KeyFileResult load_or_create_key(std::string const& path, bool generate)
{
    KeyFileResult out;
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) {
        if (st.st_mode & (S_IRWXG | S_IRWXO)) {
            out.error = "key file " + path + " is accessible by group or others; chmod 600 it";
            return out;
        }
        int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            out.error = "cannot read key file " + path + ": " + std::strerror(errno);
            return out;
        }
        auto text = read_small(fd);
        ::close(fd);
        while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
            text.pop_back();
        auto raw = text.size() == 64 ? tron::from_hex(text) : std::nullopt;
        OPENSSL_cleanse(text.data(), text.size());
        if (raw)
            out.key = tron::PrivateKey::from_bytes(*raw);
        if (raw)
            OPENSSL_cleanse(raw->data(), raw->size());
        if (!out.key)
            out.error = "key file " + path + " does not hold a valid secp256k1 key (64 hex digits)";
        return out;
    }
    if (!generate)
        return out;
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    auto key = tron::PrivateKey::generate();
    auto text = tron::to_hex(key.raw_secret()) + "\n";
    auto tmp = path + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    bool ok = fd >= 0 &&
              ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
              ::fsync(fd) == 0;
    if (fd >= 0)
        ::close(fd);
    OPENSSL_cleanse(text.data(), text.size());
    if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
        out.error = "cannot write key file " + path + ": " + std::strerror(errno);
        ::unlink(tmp.c_str());
        return out;
    }
    out.key = key;
    out.created = true;
    return out;
}

} // namespace seedbox::ledger
