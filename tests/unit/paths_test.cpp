#include "daemon/paths.h"

#include <doctest/doctest.h>
#include <filesystem>
#include <random>

using namespace seedbox::daemon;
namespace fs = std::filesystem;

TEST_CASE("paths are confined to the allowed roots, through .. and symlinks")
{
    auto base = fs::temp_directory_path() / ("sbx-paths-" + std::to_string(std::random_device{}()));
    auto root = base / "root";
    auto outside = base / "outside";
    fs::create_directories(root / "sub");
    fs::create_directories(outside);
    fs::create_directory_symlink(outside, root / "escape");
    std::vector<std::string> roots{root.string()};

    CHECK(confine((root / "sub").string(), roots));
    CHECK(confine((root / "new" / "deeper").string(), roots)); // need not exist yet
    CHECK(confine("sub", roots));                              // relative to the first root
    CHECK(*confine((root / "sub" / ".." / "sub").string(), roots) == fs::canonical(root / "sub"));
    CHECK(confine(root.string(), roots));

    auto dotdot = confine((root / ".." / "outside").string(), roots);
    CHECK_FALSE(dotdot);
    CHECK(dotdot.error().code == Errc::path_not_allowed);
    CHECK(dotdot.error().message.find("outside the allowed roots") != std::string::npos);
    CHECK_FALSE(confine((root / "escape" / "file").string(), roots));
    CHECK_FALSE(confine("/etc/passwd", roots));
    CHECK_FALSE(confine("../outside", roots));
    CHECK_FALSE(confine("", roots));
    CHECK_FALSE(confine((base / "rootx").string(), roots)); // prefix of the name is not inside
    fs::remove_all(base);
}
