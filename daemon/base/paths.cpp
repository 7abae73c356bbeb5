#include "daemon/base/paths.h"
#include "daemon/base/unique_fd.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>

namespace seedbox::daemon {

namespace fs = std::filesystem;

namespace {

bool is_within(fs::path const& path, fs::path const& root)
{
    auto p = path.begin();
    for (auto r = root.begin(); r != root.end(); ++r, ++p) {
        if (r->empty())
            continue; // trailing separator
        if (p == path.end() || *p != *r)
            return false;
    }
    return true;
}

// The allowed roots, each resolved through symlinks when first needed and then kept for the rest
// of one call: a call compares against the roots up to three times (the request, the root it
// creates in, the directory it opened), and resolving a root costs a system call per component.
class Roots {
public:
    explicit Roots(std::vector<std::string> const& roots) : roots_(roots), resolved_(roots.size())
    {
    }

    // The root (resolved) that `real` lies in, or empty.
    fs::path containing(fs::path const& real)
    {
        for (std::size_t i = 0; i < roots_.size(); ++i) {
            if (!resolved_[i]) {
                std::error_code ec;
                auto r = fs::weakly_canonical(fs::absolute(roots_[i], ec), ec);
                resolved_[i] = ec ? fs::path() : r;
            }
            if (!resolved_[i]->empty() && is_within(real, *resolved_[i]))
                return *resolved_[i];
        }
        return {};
    }

private:
    std::vector<std::string> const& roots_;
    std::vector<std::optional<fs::path>> resolved_;
};

using Fd = UniqueFd;

// The real path of an open file, as the kernel knows it.
fs::path real_path_of(int fd)
{
    std::error_code ec;
    auto p = fs::read_symlink("/proc/self/fd/" + std::to_string(fd), ec);
    return ec ? fs::path() : p;
}

std::string errno_text()
{
    return std::strerror(errno);
}

// " (torrent.allowed_roots: /a, /b)": where a refused path could have gone.
std::string allowed_text(std::vector<std::string> const& roots)
{
    std::string out = " (torrent.allowed_roots: ";
    for (std::size_t i = 0; i < roots.size(); ++i)
        out += (i ? ", " : "") + roots[i];
    return out + ")";
}

} // namespace

bool inside_roots(fs::path const& real, std::vector<std::string> const& roots)
{
    return !Roots(roots).containing(real).empty();
}

namespace {

Result<fs::path> confine_within(std::string const& requested, PathRules const& rules,
                                Roots& resolved_roots)
{
    auto const& roots = rules.roots;
    if (requested.empty())
        return make_error(Errc::path_not_allowed, "path is empty");
    if (requested.find('\0') != std::string::npos)
        return make_error(Errc::path_not_allowed, "path contains a NUL byte");
    if (roots.empty())
        return make_error(Errc::path_not_allowed, "no allowed roots are configured");
    std::error_code ec;
    fs::path p(requested);
    if (p.is_relative())
        p = fs::path(rules.base.empty() ? roots.front() : rules.base) / p;
    p = fs::absolute(p, ec);
    // A dangling symlink passes weakly_canonical as a name yet to be created: find it first.
    fs::path prefix;
    for (auto const& part : p) {
        prefix /= part;
        struct stat st {};
        if (::lstat(prefix.c_str(), &st) != 0)
            break; // the rest does not exist yet
        if (S_ISLNK(st.st_mode) && ::stat(prefix.c_str(), &st) != 0)
            return make_error(Errc::path_not_allowed,
                              "path \"" + requested + "\": " + prefix.string() +
                                  " is a symlink to nothing (" + errno_text() + ")");
    }
    auto resolved = fs::weakly_canonical(p, ec);
    if (ec)
        return make_error(Errc::path_not_allowed,
                          "cannot resolve path \"" + requested + "\": " + ec.message());
    if (resolved_roots.containing(resolved).empty())
        return make_error(Errc::path_not_allowed,
                          "path \"" + requested + "\" resolves to \"" + resolved.string() +
                              "\", outside the allowed roots" + allowed_text(roots));
    return resolved;
}

} // namespace

Result<fs::path> confine(std::string const& requested, PathRules const& rules)
{
    Roots roots(rules.roots);
    return confine_within(requested, rules, roots);
}

Result<std::string> read_confined_file(std::string const& path, PathRules const& rules,
                                       std::size_t max_bytes)
{
    Roots roots(rules.roots);
    auto p = confine_within(path, rules, roots);
    if (!p)
        return p.error();
    // O_PATH opens nothing for I/O: a FIFO does not block, a device sees no open().
    Fd handle(::open(p->c_str(), O_PATH | O_CLOEXEC));
    if (handle.fd < 0 && errno == ENOENT)
        return make_error(Errc::file_not_found, "no file at " + p->string());
    if (handle.fd < 0)
        return make_error(Errc::storage_failed, "cannot open " + p->string() + ": " + errno_text());
    struct stat st {};
    if (::fstat(handle.fd, &st) != 0)
        return make_error(Errc::storage_failed, "cannot stat " + p->string() + ": " + errno_text());
    if (!S_ISREG(st.st_mode))
        return make_error(Errc::path_not_allowed,
                          p->string() + " is not a regular file (a directory, FIFO, socket or "
                                        "device is never read)");
    auto real = real_path_of(handle.fd);
    if (real.empty() || roots.containing(real).empty())
        return make_error(Errc::path_not_allowed,
                          "path \"" + path + "\" changed while being checked; refused");
    Fd file(::open(("/proc/self/fd/" + std::to_string(handle.fd)).c_str(),
                   O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    if (file.fd < 0)
        return make_error(Errc::storage_failed, "cannot read " + p->string() + ": " + errno_text());
    std::string data(std::min<std::size_t>(max_bytes + 1, static_cast<std::size_t>(st.st_size) + 1),
                     '\0');
    std::size_t got = 0;
    while (got < data.size()) {
        auto n = ::read(file.fd, data.data() + got, data.size() - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return make_error(Errc::storage_failed,
                              "cannot read " + p->string() + ": " + errno_text());
        if (n == 0)
            break;
        got += static_cast<std::size_t>(n);
    }
    data.resize(got);
    return data;
}

Result<fs::path> make_confined_dir(std::string const& path, PathRules const& rules)
{
    Roots roots(rules.roots);
    auto p = confine_within(path, rules, roots);
    if (!p)
        return p.error();
    auto const root = roots.containing(*p);
    std::error_code ec;
    fs::create_directories(root, ec); // a configured root that does not exist yet
    Fd dir(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (dir.fd < 0)
        return make_error(Errc::storage_failed,
                          "cannot open allowed root " + root.string() + ": " + errno_text());
    auto refuse = [&](fs::path const& at, std::string const& why) -> Result<fs::path> {
        return make_error(Errc::path_not_allowed,
                          "path \"" + path + "\": " + at.string() + " " + why);
    };
    fs::path at = root;
    for (auto const& part : p->lexically_relative(root)) {
        if (part.empty() || part == ".")
            continue;
        at /= part;
        // `p` is canonical: every existing component is a real directory, so a symlink now is
        // one that appeared after the check.
        int next = ::openat(dir.fd, part.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0 && errno == ENOENT) {
            if (::mkdirat(dir.fd, part.c_str(), 0755) != 0 && errno != EEXIST)
                return make_error(Errc::storage_failed,
                                  "cannot create " + at.string() + ": " + errno_text());
            next = ::openat(dir.fd, part.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (next < 0 && (errno == ELOOP || errno == ENOTDIR))
            return refuse(at, "is a symlink or not a directory");
        if (next < 0)
            return make_error(Errc::storage_failed,
                              "cannot open " + at.string() + ": " + errno_text());
        dir = Fd(next);
    }
    auto real = real_path_of(dir.fd);
    if (real.empty() || roots.containing(real).empty())
        return refuse(*p, "moved outside the allowed roots while being created");
    return real;
}

} // namespace seedbox::daemon
