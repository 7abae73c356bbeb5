// A fresh directory under $TMPDIR (mkdtemp: unique, 0700), removed with everything in it when the
// object goes. The one temporary-directory helper of the unit tests.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

namespace seedbox::test {

struct TempDir {
    std::filesystem::path path;
    explicit TempDir(std::string const& prefix = "sbx-unit-")
    {
        auto pattern = (std::filesystem::temp_directory_path() / (prefix + "XXXXXX")).string();
        if (!::mkdtemp(pattern.data()))
            throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
        path = pattern;
    }
    ~TempDir()
    {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    TempDir(TempDir const&) = delete;
    TempDir& operator=(TempDir const&) = delete;
};

} // namespace seedbox::test
