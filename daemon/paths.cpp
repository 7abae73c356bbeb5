#include "daemon/paths.h"

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

} // namespace

Result<fs::path> confine(std::string const& requested, std::vector<std::string> const& roots)
{
    if (requested.empty())
        return make_error(Errc::path_not_allowed, "path is empty");
    if (requested.find('\0') != std::string::npos)
        return make_error(Errc::path_not_allowed, "path contains a NUL byte");
    if (roots.empty())
        return make_error(Errc::path_not_allowed, "no allowed roots are configured");
    std::error_code ec;
    fs::path p(requested);
    if (p.is_relative())
        p = fs::path(roots.front()) / p;
    auto resolved = fs::weakly_canonical(fs::absolute(p, ec), ec);
    if (ec)
        return make_error(Errc::path_not_allowed,
                          "cannot resolve path \"" + requested + "\": " + ec.message());
    for (auto const& root : roots) {
        auto r = fs::weakly_canonical(fs::absolute(root, ec), ec);
        if (!ec && is_within(resolved, r))
            return resolved;
    }
    return make_error(Errc::path_not_allowed, "path \"" + requested + "\" resolves to \"" +
                                                  resolved.string() +
                                                  "\", outside the allowed roots");
}

} // namespace seedbox::daemon
