#include "daemon/base/paths.h"
#include "temp_dir.h"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>

using namespace seedbox::daemon;
namespace fs = std::filesystem;

TEST_CASE("paths are confined to the allowed roots, through .. and symlinks")
{
    seedbox::test::TempDir tmp{"sbx-paths-"};
    auto const& base = tmp.path;
    auto root = base / "root";
    auto outside = base / "outside";
    fs::create_directories(root / "sub");
    fs::create_directories(outside);
    fs::create_directory_symlink(outside, root / "escape");
    PathRules roots{root.string(), {root.string()}};

    CHECK(confine((root / "sub").string(), roots));
    CHECK(confine((root / "new" / "deeper").string(), roots)); // need not exist yet
    CHECK(confine("sub", roots));                              // relative to the first root
    CHECK(*confine((root / "sub" / ".." / "sub").string(), roots) == fs::canonical(root / "sub"));
    CHECK(confine(root.string(), roots));

    auto dotdot = confine((root / ".." / "outside").string(), roots);
    CHECK_FALSE(dotdot);
    CHECK(dotdot.error().code == Errc::path_not_allowed);
    CHECK(dotdot.error().message.find("outside the allowed roots") != std::string::npos);
    CHECK(dotdot.error().message.find("(torrent.allowed_roots: " + root.string() + ")") !=
          std::string::npos);
    CHECK_FALSE(confine((root / "escape" / "file").string(), roots));
    CHECK_FALSE(confine("/etc/passwd", roots));
    CHECK_FALSE(confine("../outside", roots));
    CHECK_FALSE(confine("", roots));
    CHECK_FALSE(confine((base / "rootx").string(), roots)); // prefix of the name is not inside
}

TEST_CASE("relative paths are taken from the base (default_save_path), not the first root")
{
    seedbox::test::TempDir tmp{"sbx-paths-"};
    auto const& base = tmp.path;
    fs::create_directories(base / "data" / "downloads");
    PathRules rules{(base / "data" / "downloads").string(), {(base / "data").string()}};
    CHECK(*confine("done", rules) == fs::canonical(base / "data" / "downloads") / "done");
    CHECK(*confine("../elsewhere", rules) == fs::canonical(base / "data") / "elsewhere");
    CHECK_FALSE(confine("../../x", rules));
    auto missing = read_confined_file("nothing.torrent", rules, 100);
    REQUIRE_FALSE(missing);
    CHECK(missing.error().code == Errc::file_not_found);
}

TEST_CASE("dangling symlinks are refused, and directories are created inside the roots only")
{
    seedbox::test::TempDir tmp{"sbx-paths2-"};
    auto const& base = tmp.path;
    auto root = base / "root";
    auto outside = base / "outside";
    fs::create_directories(root);
    fs::create_directories(outside);
    PathRules roots{root.string(), {root.string()}};

    // A symlink to nothing would lead wherever its target appears later.
    fs::create_directory_symlink(outside / "later", root / "dangling");
    auto dangling = confine((root / "dangling").string(), roots);
    REQUIRE_FALSE(dangling);
    CHECK(dangling.error().message.find("symlink to nothing") != std::string::npos);
    CHECK_FALSE(confine((root / "dangling" / "x").string(), roots));
    CHECK_FALSE(make_confined_dir((root / "dangling").string(), roots));
    CHECK_FALSE(fs::exists(outside / "later"));

    // A symlink inside the roots that stays inside is fine.
    fs::create_directories(root / "real");
    fs::create_directory_symlink(root / "real", root / "alias");
    auto made = make_confined_dir((root / "alias" / "new" / "deeper").string(), roots);
    REQUIRE(made);
    CHECK(*made == fs::canonical(root / "real" / "new" / "deeper"));
    CHECK(fs::is_directory(root / "real" / "new" / "deeper"));

    // A symlink leading outside.
    fs::create_directory_symlink(outside, root / "escape");
    CHECK_FALSE(make_confined_dir((root / "escape" / "x").string(), roots));
    CHECK_FALSE(fs::exists(outside / "x"));
}

TEST_CASE("server-side files must be regular files inside the roots, read without blocking")
{
    seedbox::test::TempDir tmp{"sbx-paths3-"};
    auto const& base = tmp.path;
    auto root = base / "root";
    fs::create_directories(root);
    fs::create_directories(base / "outside");
    PathRules roots{root.string(), {root.string()}};
    {
        std::ofstream(root / "a.torrent") << "d4:infoe";
        std::ofstream(base / "outside" / "secret") << "secret";
    }
    auto read = read_confined_file((root / "a.torrent").string(), roots, 100);
    REQUIRE(read);
    CHECK(*read == "d4:infoe");
    auto small = read_confined_file((root / "a.torrent").string(), roots, 3);
    REQUIRE(small);
    CHECK(small->size() == 4); // max + 1: the caller can tell "too large"

    REQUIRE(::mkfifo((root / "fifo").c_str(), 0600) == 0);
    auto fifo = read_confined_file((root / "fifo").string(), roots, 100); // must not block
    REQUIRE_FALSE(fifo);
    CHECK(fifo.error().message.find("not a regular file") != std::string::npos);
    CHECK_FALSE(read_confined_file((root).string(), roots, 100));
    CHECK_FALSE(read_confined_file("/dev/zero", roots, 100));

    fs::create_symlink(base / "outside" / "secret", root / "link");
    CHECK_FALSE(read_confined_file((root / "link").string(), roots, 100));
}
