// The web client (web.root): a folder of static files, Transmission's own web client, served
// read-only under /transmission/web/. Its index.html reaches the RPC at ../rpc, which is
// /transmission/rpc. Credentials, Host and Origin are the HTTP session's business; this is the
// rest: the URL space, the file and its headers. No sockets, no threads: any thread, and the
// session runs respond() on the slow pool because it reads the disk.
//
// Confinement holds at the moment of use, on every request: the root is opened again (O_PATH),
// the URL path is percent-decoded once and refused (404) if it holds a NUL, a backslash, an
// empty segment or a segment that starts with "." (so "..", dotfiles and dot-folders), and the
// file is opened below the root's handle with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS):
// symlinks that stay inside the root are followed, absolute ones and ones that lead out are
// refused. Where the kernel has no openat2 (before 5.6, or a seccomp filter that refuses it) the
// path is walked one component at a time with O_NOFOLLOW, and every symlink is refused. Only
// regular files are served, each of at most max_bytes (kMaxFileBytes): a FIFO, socket, device or
// directory is never opened for reading.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace seedbox::rpc::web {

// The largest file served (Transmission 3.00's largest, jquery-ui.min.js, is 235 KiB).
inline constexpr std::size_t kMaxFileBytes = 8u << 20;

// Where the web client lives; "/transmission/web" and "/" redirect here.
inline constexpr std::string_view kBase = "/transmission/web/";

// The web client's paths (its answers come from respond()): "/", "/transmission/web" and
// everything below "/transmission/web/". Only while web.root is set.
[[nodiscard]] bool is_web_path(std::string_view path);

struct Request {
    boost::beast::http::verb method = boost::beast::http::verb::get;
    std::string path;          // the target's path (no query), as sent: still percent-encoded
    std::string if_none_match; // the If-None-Match header
    unsigned version = 11;
    bool keep_alive = true;
};

using Response = boost::beast::http::response<boost::beast::http::string_body>;

// The answer to a request for one of the web client's paths:
// - 405 (with Allow: GET, HEAD) for any other method;
// - "/transmission/web": 301 to "/transmission/web/"; "/": 302 there (a temporary redirect, so
//   a browser does not remember it once web.root is turned off);
// - "/transmission/web/": index.html; a refused or missing path: 404; a file over max_bytes:
//   403; the root gone or unreadable: 500 (logged);
// - a file: 200, or 304 when If-None-Match names its ETag (made from its size and mtime), with
//   Content-Type by extension, ETag, Last-Modified, Cache-Control: no-cache (the client's URLs
//   carry no version, so an upgrade must never mix a new index.html with cached old scripts),
//   X-Content-Type-Options: nosniff and a Content-Security-Policy that Transmission's client
//   keeps (no inline scripts; inline styles allowed; no framing).
// HEAD gets the headers GET would get (Content-Length included) and no body; its file is not
// read.
[[nodiscard]] Response respond(std::string const& root, Request const& req,
                               std::size_t max_bytes = kMaxFileBytes);

// 503 with Retry-After: the slow pool that reads the files has too many jobs waiting.
[[nodiscard]] Response busy(Request const& req);

// web.root at start: empty when it names an existing directory, else why not (naming it).
[[nodiscard]] std::string check_root(std::string const& root);

// Empties the body of an answer to HEAD, keeping the Content-Length GET would get.
void strip_body(Response& res);

namespace detail {

// The path below kBase, percent-decoded once ("" = index.html); nullopt for a malformed escape
// or a path refused by the rules above.
[[nodiscard]] std::optional<std::string> decode_path(std::string_view encoded);

// Opens the checked relative path `rel` below the directory `dirfd` with O_PATH; -1 with errno
// set when refused or missing. `walk` forces the component walk (tests; kernels without
// openat2 take it by themselves).
[[nodiscard]] int open_beneath(int dirfd, std::string const& rel, bool walk);

// "text/html; charset=utf-8" for "index.html", ...; application/octet-stream when unknown.
[[nodiscard]] std::string_view content_type(std::string_view name);

// Whether an If-None-Match header value names `etag` ("*", a list, weak forms too).
[[nodiscard]] bool etag_matches(std::string_view if_none_match, std::string_view etag);

} // namespace detail

} // namespace seedbox::rpc::web
