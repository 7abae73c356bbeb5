#include "rpc/static_files.h"

#include "daemon/base/unique_fd.h"

#include <boost/beast/http/field.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <utility>

namespace seedbox::rpc::web {

namespace http = boost::beast::http;

namespace {

using Fd = daemon::UniqueFd;

constexpr std::string_view kNoSlash = "/transmission/web";

// Scripts only from web.root, none inline: torrent, file and tracker names come from strangers
// and the client renders them, so markup that slips into the page must not run. Transmission
// 3.00's client keeps to that (checked in Chromium by tests/integration/test_web_client.py); the
// one inline handler is jQuery 1.11's feature test, which sets onfocusin="t" and is allowed by
// its hash (running "t" does nothing). jQuery adds <style> elements and style attributes, hence
// inline styles. Nothing loads from elsewhere, and the client has no business inside a frame.
constexpr char const* kPolicy =
    "default-src 'self'; script-src 'self'; "
    "script-src-attr 'unsafe-hashes' 'sha256-47mKTaMaEn1L3m5DAz9muidMqw636xxw7EFAK/YnPdg='; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

Response base(http::status status, Request const& req)
{
    Response res{status, req.version};
    res.set(http::field::server, "seedboxd");
    res.set("X-Content-Type-Options", "nosniff");
    res.keep_alive(req.keep_alive);
    return res;
}

Response text(http::status status, Request const& req, std::string body)
{
    auto res = base(status, req);
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    res.set(http::field::cache_control, "no-store");
    res.body() = std::move(body);
    res.prepare_payload();
    if (req.method == http::verb::head)
        strip_body(res);
    return res;
}

Response redirect(http::status status, Request const& req)
{
    auto res = text(status, req, "moved to " + std::string(kBase) + "\n");
    res.set(http::field::location, std::string(kBase));
    return res;
}

Response not_found(Request const& req)
{
    return text(http::status::not_found, req, "not found\n");
}

// RFC 9110's IMF-fixdate, in English whatever the locale.
std::string http_date(std::time_t t)
{
    static constexpr std::array<char const*, 7> days = {"Sun", "Mon", "Tue", "Wed",
                                                        "Thu", "Fri", "Sat"};
    static constexpr std::array<char const*, 12> months = {
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char out[40];
    std::snprintf(out, sizeof out, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday],
                  tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                  tm.tm_sec);
    return out;
}

std::string etag_of(struct stat const& st)
{
    char out[64];
    std::snprintf(out, sizeof out, "\"%llx-%llx\"", static_cast<unsigned long long>(st.st_size),
                  static_cast<unsigned long long>(st.st_mtim.tv_sec) * 1'000'000'000ULL +
                      static_cast<unsigned long long>(st.st_mtim.tv_nsec));
    return out;
}

int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// openat2 where the kernel has it; false once it said it does not (ENOSYS, or EPERM from a
// seccomp filter), after which every open walks.
std::atomic<bool> openat2_works{true};

int open_with_openat2(int dirfd, std::string const& rel)
{
#ifdef SYS_openat2
    open_how how{};
    how.flags = O_PATH | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    auto fd = static_cast<int>(::syscall(SYS_openat2, dirfd, rel.c_str(), &how, sizeof how));
    if (fd < 0 && (errno == ENOSYS || errno == EPERM || errno == E2BIG)) {
        openat2_works = false;
        errno = ENOSYS;
    }
    return fd;
#else
    (void)dirfd;
    (void)rel;
    openat2_works = false;
    errno = ENOSYS;
    return -1;
#endif
}

// One component at a time, never following a symlink: directories on the way with
// O_DIRECTORY | O_NOFOLLOW, the last one with O_PATH | O_NOFOLLOW (a symlink there opens as the
// link itself, which is not a regular file and so never served).
int open_by_walking(int dirfd, std::string const& rel)
{
    int dir = dirfd;
    std::size_t pos = 0;
    for (;;) {
        auto const slash = rel.find('/', pos);
        auto const part = rel.substr(pos, slash == std::string::npos ? slash : slash - pos);
        bool const last = slash == std::string::npos;
        int const flags = O_PATH | O_NOFOLLOW | O_CLOEXEC | (last ? 0 : O_DIRECTORY);
        int const next = ::openat(dir, part.c_str(), flags);
        int const saved = errno;
        if (dir != dirfd)
            ::close(dir);
        errno = saved;
        if (next < 0 || last)
            return next;
        dir = next;
        pos = slash + 1;
    }
}

// What a served file's headers say, from the open file.
void describe(Response& res, struct stat const& st, std::string const& name,
              std::string const& etag)
{
    res.set(http::field::content_type, std::string(detail::content_type(name)));
    res.set(http::field::etag, etag);
    res.set(http::field::last_modified, http_date(st.st_mtim.tv_sec));
    res.set(http::field::cache_control, "no-cache");
    res.set("Content-Security-Policy", kPolicy);
    res.set("X-Frame-Options", "DENY");
    res.set("Referrer-Policy", "no-referrer");
}

// Reads the regular file behind the O_PATH handle `handle` (never the name again, so the file
// read is the one checked). Up to max + 1 bytes, so a file that grew past the cap is seen.
bool read_all(int handle, std::size_t size, std::size_t max, std::string& out)
{
    Fd file(::open(("/proc/self/fd/" + std::to_string(handle)).c_str(),
                   O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    if (file.fd < 0)
        return false;
    out.assign(std::min(size, max) + 1, '\0');
    std::size_t got = 0;
    while (got < out.size()) {
        auto n = ::read(file.fd, out.data() + got, out.size() - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return false;
        if (n == 0)
            break;
        got += static_cast<std::size_t>(n);
    }
    out.resize(got);
    return true;
}

// The file `rel` below `root`, checked and answered.
Response serve_file(std::string const& root, std::string const& rel, Request const& req,
                    std::size_t max_bytes)
{
    Fd dir(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (dir.fd < 0) {
        spdlog::warn("web client: cannot open web.root {}: {}", root, std::strerror(errno));
        return text(http::status::internal_server_error, req, "web.root cannot be opened\n");
    }
    Fd handle(detail::open_beneath(dir.fd, rel, false));
    struct stat st {};
    if (handle.fd < 0 || ::fstat(handle.fd, &st) != 0 || !S_ISREG(st.st_mode))
        return not_found(req);
    if (static_cast<std::size_t>(st.st_size) > max_bytes)
        return text(http::status::forbidden, req,
                    "larger than the " + std::to_string(max_bytes) + " bytes served per file\n");
    auto const name = rel.substr(rel.rfind('/') + 1);
    auto const etag = etag_of(st);
    if (!req.if_none_match.empty() && detail::etag_matches(req.if_none_match, etag)) {
        auto res = base(http::status::not_modified, req);
        describe(res, st, name, etag);
        res.erase(http::field::content_type);
        return res;
    }
    auto res = base(http::status::ok, req);
    describe(res, st, name, etag);
    if (req.method == http::verb::head) {
        res.content_length(static_cast<std::uint64_t>(st.st_size));
        return res;
    }
    if (!read_all(handle.fd, static_cast<std::size_t>(st.st_size), max_bytes, res.body())) {
        spdlog::warn("web client: cannot read {}/{}: {}", root, rel, std::strerror(errno));
        return text(http::status::internal_server_error, req, "cannot read the file\n");
    }
    if (res.body().size() > max_bytes)
        return text(http::status::forbidden, req,
                    "larger than the " + std::to_string(max_bytes) + " bytes served per file\n");
    res.prepare_payload();
    return res;
}

} // namespace

bool is_web_path(std::string_view path)
{
    return path == "/" || path == kNoSlash || path.starts_with(kBase);
}

void strip_body(Response& res)
{
    auto const n = res.body().size();
    res.body().clear();
    res.content_length(n);
}

Response respond(std::string const& root, Request const& req, std::size_t max_bytes)
{
    try {
        if (req.method != http::verb::get && req.method != http::verb::head) {
            auto res = text(http::status::method_not_allowed, req, "use GET or HEAD\n");
            res.set(http::field::allow, "GET, HEAD");
            return res;
        }
        if (req.path == kNoSlash)
            return redirect(http::status::moved_permanently, req);
        if (req.path == "/")
            return redirect(http::status::found, req);
        if (!std::string_view(req.path).starts_with(kBase))
            return not_found(req);
        auto rel = detail::decode_path(std::string_view(req.path).substr(kBase.size()));
        if (!rel)
            return not_found(req);
        return serve_file(root, rel->empty() ? "index.html" : *rel, req, max_bytes);
    } catch (std::exception const& e) { // no memory for the file, most likely
        spdlog::error("web client: {} failed: {}", req.path, e.what());
        return text(http::status::internal_server_error, req, "internal error\n");
    }
}

Response busy(Request const& req)
{
    auto res = text(http::status::service_unavailable, req,
                    "busy: too many slow jobs are waiting; retry later\n");
    res.set(http::field::retry_after, "1");
    return res;
}

std::string check_root(std::string const& root)
{
    struct stat st {};
    if (::stat(root.c_str(), &st) != 0)
        return "web.root " + root + ": " + std::strerror(errno);
    if (!S_ISDIR(st.st_mode))
        return "web.root " + root + " is not a directory";
    Fd dir(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir.fd < 0)
        return "web.root " + root + " cannot be read: " + std::strerror(errno);
    if (::faccessat(dir.fd, "index.html", R_OK, 0) != 0)
        return "web.root " + root +
               " holds no readable index.html (Debian's transmission-common "
               "puts Transmission's web client in /usr/share/transmission/web)";
    return {};
}

namespace detail {

std::optional<std::string> decode_path(std::string_view encoded)
{
    std::string out;
    out.reserve(encoded.size());
    for (std::size_t i = 0; i < encoded.size(); ++i) {
        if (encoded[i] != '%') {
            out += encoded[i];
            continue;
        }
        if (i + 2 >= encoded.size())
            return std::nullopt;
        int const hi = hex_digit(encoded[i + 1]), lo = hex_digit(encoded[i + 2]);
        if (hi < 0 || lo < 0)
            return std::nullopt;
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    if (out.empty())
        return out;
    if (out.find('\0') != std::string::npos || out.find('\\') != std::string::npos)
        return std::nullopt;
    // Every segment non-empty and not starting with "." (which also refuses ".." and "/x").
    for (std::size_t pos = 0;;) {
        auto const slash = out.find('/', pos);
        auto const end = slash == std::string::npos ? out.size() : slash;
        if (end == pos || out[pos] == '.')
            return std::nullopt;
        if (slash == std::string::npos)
            return out;
        pos = slash + 1;
    }
}

int open_beneath(int dirfd, std::string const& rel, bool walk)
{
    if (!walk && openat2_works) {
        int fd = open_with_openat2(dirfd, rel);
        if (fd >= 0 || errno != ENOSYS)
            return fd;
    }
    return open_by_walking(dirfd, rel);
}

std::string_view content_type(std::string_view name)
{
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 11> types = {{
        {"html", "text/html; charset=utf-8"},
        {"js", "text/javascript; charset=utf-8"},
        {"css", "text/css; charset=utf-8"},
        {"png", "image/png"},
        {"svg", "image/svg+xml"},
        {"ico", "image/x-icon"},
        {"json", "application/json"},
        {"woff", "font/woff"},
        {"woff2", "font/woff2"},
        {"map", "application/json"},
        {"txt", "text/plain; charset=utf-8"},
    }};
    auto const dot = name.rfind('.');
    if (dot == std::string_view::npos)
        return "application/octet-stream";
    std::string ext(name.substr(dot + 1));
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    for (auto const& [e, type] : types)
        if (e == ext)
            return type;
    return "application/octet-stream";
}

bool etag_matches(std::string_view if_none_match, std::string_view etag)
{
    std::size_t pos = 0;
    while (pos <= if_none_match.size()) {
        auto comma = if_none_match.find(',', pos);
        if (comma == std::string_view::npos)
            comma = if_none_match.size();
        auto tag = if_none_match.substr(pos, comma - pos);
        while (!tag.empty() && (tag.front() == ' ' || tag.front() == '\t'))
            tag.remove_prefix(1);
        while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\t'))
            tag.remove_suffix(1);
        if (tag.starts_with("W/"))
            tag.remove_prefix(2); // If-None-Match compares weakly (RFC 9110 13.1.2)
        if (tag == "*" || tag == etag)
            return true;
        pos = comma + 1;
    }
    return false;
}

} // namespace detail

} // namespace seedbox::rpc::web
