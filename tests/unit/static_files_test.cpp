// The web client's files (rpc/static_files.h): the URL space, confinement below web.root, and
// the headers a browser caches by.
#include "rpc/static_files.h"
#include "rpc/transmission_gate.h"
#include "temp_dir.h"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;
namespace http = boost::beast::http;
namespace web = seedbox::rpc::web;

namespace {

void write_file(fs::path const& p, std::string const& text)
{
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
}

// A web root with an index, a script, a stylesheet and a folder, beside a secret outside it.
struct Site {
    seedbox::test::TempDir tmp{"sbx-web-"};
    fs::path root = tmp.path / "web";
    fs::path secret = tmp.path / "secret.txt";
    Site()
    {
        write_file(root / "index.html", "<!DOCTYPE html><title>t</title>");
        write_file(root / "javascript" / "main.js", "var x = 1;\n");
        write_file(root / "style" / "common.css", "body{}\n");
        write_file(secret, "the token\n");
    }
    web::Response get(std::string const& path, http::verb method = http::verb::get,
                      std::string const& if_none_match = "", std::size_t max = web::kMaxFileBytes)
    {
        return web::respond(root.string(), web::Request{method, path, if_none_match, 11, true},
                            max);
    }
};

std::string header(web::Response const& res, http::field f)
{
    auto const v = res[f];
    return {v.data(), v.size()};
}

// Whether `rel` below `root` opens as a regular file (what respond() serves).
bool opens_regular(fs::path const& root, std::string const& rel, bool walk)
{
    int dir = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(dir >= 0);
    int fd = web::detail::open_beneath(dir, rel, walk);
    struct stat st {};
    bool const regular = fd >= 0 && ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    if (fd >= 0)
        ::close(fd);
    ::close(dir);
    return regular;
}

} // namespace

TEST_CASE("web client: the URL space, redirects and methods")
{
    CHECK(web::is_web_path("/"));
    CHECK(web::is_web_path("/transmission/web"));
    CHECK(web::is_web_path("/transmission/web/"));
    CHECK(web::is_web_path("/transmission/web/javascript/main.js"));
    CHECK_FALSE(web::is_web_path("/transmission/rpc"));
    CHECK_FALSE(web::is_web_path("/transmission/webx"));
    CHECK_FALSE(web::is_web_path("/index.html"));

    Site site;
    auto moved = site.get("/transmission/web");
    CHECK(moved.result() == http::status::moved_permanently);
    CHECK(header(moved, http::field::location) == "/transmission/web/");
    auto home = site.get("/");
    CHECK(home.result() == http::status::found);
    CHECK(header(home, http::field::location) == "/transmission/web/");

    for (auto verb :
         {http::verb::post, http::verb::put, http::verb::delete_, http::verb::options}) {
        auto res = site.get("/transmission/web/index.html", verb);
        CHECK(res.result() == http::status::method_not_allowed);
        CHECK(header(res, http::field::allow) == "GET, HEAD");
    }
    CHECK(site.get("/", http::verb::post).result() == http::status::method_not_allowed);
}

TEST_CASE("web client: index.html, content types and the headers browsers cache by")
{
    Site site;
    auto index = site.get("/transmission/web/");
    REQUIRE(index.result() == http::status::ok);
    CHECK(index.body() == "<!DOCTYPE html><title>t</title>");
    CHECK(header(index, http::field::content_type) == "text/html; charset=utf-8");
    CHECK(header(index, http::field::cache_control) == "no-cache");
    CHECK(header(index, http::field::content_length) == std::to_string(index.body().size()));
    CHECK(index["X-Content-Type-Options"] == "nosniff");
    CHECK(index["Content-Security-Policy"].find("frame-ancestors 'none'") !=
          boost::beast::string_view::npos);
    auto const etag = header(index, http::field::etag);
    CHECK(etag.size() > 2);
    CHECK(etag.front() == '"');
    CHECK(header(index, http::field::last_modified).ends_with(" GMT"));
    CHECK(site.get("/transmission/web/index.html").body() == index.body());

    auto js = site.get("/transmission/web/javascript/main.js");
    CHECK(js.result() == http::status::ok);
    CHECK(header(js, http::field::content_type) == "text/javascript; charset=utf-8");
    CHECK(header(site.get("/transmission/web/style/common.css"), http::field::content_type) ==
          "text/css; charset=utf-8");

    using web::detail::content_type;
    CHECK(content_type("a.png") == "image/png");
    CHECK(content_type("a.SVG") == "image/svg+xml");
    CHECK(content_type("favicon.ico") == "image/x-icon");
    CHECK(content_type("a.json") == "application/json");
    CHECK(content_type("a.js.map") == "application/json");
    CHECK(content_type("f.woff") == "font/woff");
    CHECK(content_type("f.woff2") == "font/woff2");
    CHECK(content_type("README.txt") == "text/plain; charset=utf-8");
    CHECK(content_type("a.exe") == "application/octet-stream");
    CHECK(content_type("Makefile") == "application/octet-stream");
}

TEST_CASE("web client: If-None-Match gets 304, and a changed file a new ETag")
{
    Site site;
    auto const path = "/transmission/web/javascript/main.js";
    auto const etag = header(site.get(path), http::field::etag);
    auto same = site.get(path, http::verb::get, etag);
    CHECK(same.result() == http::status::not_modified);
    CHECK(same.body().empty());
    CHECK(header(same, http::field::etag) == etag);
    CHECK(site.get(path, http::verb::get, "W/" + etag).result() == http::status::not_modified);
    CHECK(site.get(path, http::verb::get, "\"other\", " + etag).result() ==
          http::status::not_modified);
    CHECK(site.get(path, http::verb::get, "*").result() == http::status::not_modified);
    CHECK(site.get(path, http::verb::head, etag).result() == http::status::not_modified);
    CHECK(site.get(path, http::verb::get, "\"other\"").result() == http::status::ok);

    write_file(site.root / "javascript" / "main.js", "var x = 2; // longer\n");
    auto changed = site.get(path, http::verb::get, etag);
    CHECK(changed.result() == http::status::ok);
    CHECK(header(changed, http::field::etag) != etag);
}

TEST_CASE("web client: HEAD gets GET's headers and no body")
{
    Site site;
    auto head = site.get("/transmission/web/javascript/main.js", http::verb::head);
    CHECK(head.result() == http::status::ok);
    CHECK(head.body().empty());
    CHECK(header(head, http::field::content_length) == "11");
    CHECK(header(head, http::field::content_type) == "text/javascript; charset=utf-8");
    auto missing = site.get("/transmission/web/nothing.js", http::verb::head);
    CHECK(missing.result() == http::status::not_found);
    CHECK(missing.body().empty());
    auto moved = site.get("/transmission/web", http::verb::head);
    CHECK(moved.result() == http::status::moved_permanently);
    CHECK(moved.body().empty());
}

TEST_CASE("web client: traversal, dotfiles and malformed paths are refused")
{
    using web::detail::decode_path;
    CHECK(decode_path("") == "");
    CHECK(decode_path("javascript/main.js") == "javascript/main.js");
    CHECK(decode_path("a%20b.txt") == "a b.txt");
    CHECK(decode_path("%252e%252e/x") == "%2e%2e/x"); // decoded once only
    for (auto bad :
         {"..", "../secret.txt", "a/../../secret.txt", "%2e%2e/secret.txt", "%2E%2E%2Fsecret.txt",
          "a/%2e%2e", ".htpasswd", "style/.hidden.css", ".git/config", "a\\b", "a%5cb", "a%00.js",
          "%2fetc/passwd", "a//b", "a/", "%", "%4", "%zz", "a%g1"})
        CHECK_MESSAGE(!decode_path(bad), bad);

    Site site;
    write_file(site.root / ".htpasswd", "u:p\n");
    write_file(site.root / ".git" / "config", "[core]\n");
    for (auto path : {"/transmission/web/../secret.txt", "/transmission/web/%2e%2e/secret.txt",
                      "/transmission/web/%2e%2e%2fsecret.txt", "/transmission/web/.htpasswd",
                      "/transmission/web/%2ehtpasswd", "/transmission/web/.git/config",
                      "/transmission/web/nothing.html", "/transmission/web/javascript",
                      "/transmission/web/javascript/", "/transmission/web//index.html"}) {
        auto res = site.get(path);
        CHECK_MESSAGE(res.result() == http::status::not_found, path);
        CHECK(res.body().find("the token") == std::string::npos);
    }
}

TEST_CASE("web client: symlinks out of the root are refused, with openat2 and by the walk")
{
    Site site;
    fs::create_symlink(site.secret, site.root / "abs.txt");         // absolute, out
    fs::create_symlink("../secret.txt", site.root / "rel.txt");     // relative, out
    fs::create_directory_symlink(site.tmp.path, site.root / "up");  // a folder out
    fs::create_symlink(site.root / "index.html", site.root / "in"); // absolute, even inside
    for (auto path : {"/transmission/web/abs.txt", "/transmission/web/rel.txt",
                      "/transmission/web/up/secret.txt", "/transmission/web/up/web/index.html",
                      "/transmission/web/in"})
        CHECK_MESSAGE(site.get(path).result() == http::status::not_found, path);
    for (bool walk : {false, true}) {
        CHECK(opens_regular(site.root, "javascript/main.js", walk));
        CHECK_FALSE(opens_regular(site.root, "abs.txt", walk));
        CHECK_FALSE(opens_regular(site.root, "rel.txt", walk));
        CHECK_FALSE(opens_regular(site.root, "up/secret.txt", walk));
        CHECK_FALSE(opens_regular(site.root, "in", walk));
    }
    // The walk follows no symlink at all, even one that stays inside.
    fs::create_symlink("javascript/main.js", site.root / "alias.js");
    CHECK_FALSE(opens_regular(site.root, "alias.js", true));
}

TEST_CASE("web client: only regular files, each under the size cap")
{
    Site site;
    REQUIRE(::mkfifo((site.root / "pipe.js").c_str(), 0600) == 0);
    CHECK(site.get("/transmission/web/pipe.js").result() == http::status::not_found); // no hang
    write_file(site.root / "ten.txt", "0123456789");
    CHECK(site.get("/transmission/web/ten.txt", http::verb::get, "", 10).result() ==
          http::status::ok);
    auto big = site.get("/transmission/web/ten.txt", http::verb::get, "", 9);
    CHECK(big.result() == http::status::forbidden);
    CHECK(big.body().find("0123") == std::string::npos);
    CHECK(site.get("/transmission/web/ten.txt", http::verb::head, "", 9).result() ==
          http::status::forbidden);
    CHECK(web::kMaxFileBytes == 8u << 20);
}

TEST_CASE("web client: the root is checked at start and again at every request")
{
    Site site;
    CHECK(web::check_root(site.root.string()).empty());
    CHECK(web::check_root((site.tmp.path / "none").string()).find("none") != std::string::npos);
    CHECK(web::check_root(site.secret.string()).find("not a directory") != std::string::npos);
    fs::create_directories(site.tmp.path / "empty");
    CHECK(web::check_root((site.tmp.path / "empty").string()).find("index.html") !=
          std::string::npos);

    fs::rename(site.root, site.tmp.path / "moved");
    CHECK(site.get("/transmission/web/").result() == http::status::internal_server_error);
    // A symlink put where the root was is followed (the operator named that path), but nothing
    // below it may leave it.
    fs::create_directory_symlink(site.tmp.path / "moved", site.root);
    CHECK(site.get("/transmission/web/").result() == http::status::ok);

    auto busy = web::busy({http::verb::get, "/transmission/web/", "", 11, true});
    CHECK(busy.result() == http::status::service_unavailable);
    CHECK(header(busy, http::field::retry_after) == "1");
}

TEST_CASE("web client: Transmission's login without its session id")
{
    using seedbox::rpc::transmission::credentials;
    using seedbox::rpc::transmission::Gate;
    std::string const token = "0123456789abcdef0123";
    std::string const user = "Basic dXNlcjowMTIzNDU2Nzg5YWJjZGVmMDEyMw=="; // user:<token>
    std::string const any = "", sonarr = "sonarr", user_name = "user";
    auto check = [&](std::string const& auth, std::string const& who) {
        return credentials(auth, {who, token}, nullptr);
    };
    CHECK(check(user, any) == Gate::pass);
    CHECK(check(user, user_name) == Gate::pass);
    CHECK(check(user, sonarr) == Gate::wrong_credentials);
    CHECK(check("Bearer " + token, any) == Gate::pass);
    CHECK(check("Basic dXNlcjp3cm9uZw==", any) == Gate::wrong_credentials);
    CHECK(check("", any) == Gate::ask_credentials);
    CHECK(check("Basic Og==", any) == Gate::ask_credentials);
}
