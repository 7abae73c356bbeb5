// Fuzz target: IP blocklists (daemon/torrent/blocklist.h) as bt.blocklist_url or the blocklists
// folder hands them over: any bytes, read as plain text (P2P, DAT, CIDR lines) or gzip, then
// added to an lt::ip_filter as the engine does (ip_filter.cpp).
// The budget is small (kMaxBytes) so that gzip bombs are cheap, and each input is parsed again
// under a tiny budget so that the over-the-budget paths run too.
// Checks beyond "no crash": an error is invalid_argument with a message; every range has one
// family and first <= last; a list without ranges has no bad lines; the counts and the kept
// problems agree; plain text gives at most one range or count per line; plain text over the
// budget is refused; what parses under the tiny budget parses the same under the large one; the
// same text served as gzip reads as the same list; after add_to_filter both ends of every range
// are blocked.
#include "daemon/torrent/blocklist.h"
#include "tests/fuzz/fuzz.h"

#include <libtorrent/ip_filter.hpp>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>

namespace {

using namespace seedbox::daemon;
using seedbox::fuzz::fail;
using seedbox::fuzz::require;

constexpr std::size_t kMaxBytes = 1 << 20; // a gzip bomb stops at 1 MiB of text
constexpr std::size_t kTinyBytes = 64;
constexpr std::size_t kGzipAgainBytes = 64 << 10; // plain inputs re-read as gzip up to this size
constexpr std::size_t kFilterChecks = 256;        // ranges whose ends are looked up in the filter

bool is_gzip(std::string_view d)
{
    return d.size() >= 2 && static_cast<unsigned char>(d[0]) == 0x1f &&
           static_cast<unsigned char>(d[1]) == 0x8b;
}

bool is_zip(std::string_view d)
{
    return d.size() >= 4 && d.starts_with("PK") &&
           ((d[2] == 3 && d[3] == 4) || (d[2] == 5 && d[3] == 6) || (d[2] == 7 && d[3] == 8));
}

// `text` as one gzip member, as a blocklist server would serve it.
std::string gzip(std::string_view text)
{
    z_stream z{};
    if (deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        fail("deflateInit2");
    std::string out(deflateBound(&z, static_cast<uLong>(text.size())), '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
    z.avail_in = static_cast<uInt>(text.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    int const rc = deflate(&z, Z_FINISH);
    out.resize(z.total_out);
    deflateEnd(&z);
    require(rc == Z_STREAM_END, "deflate did not finish");
    return out;
}

bool same(Blocklist const& a, Blocklist const& b)
{
    return a.ranges == b.ranges && a.bad_lines == b.bad_lines &&
           a.unblocked_lines == b.unblocked_lines && a.first_problems == b.first_problems;
}

void check_list(Blocklist const& list)
{
    for (auto const& r : list.ranges) {
        require(r.first.is_v4() == r.last.is_v4(), "a range across address families");
        require(!(r.last < r.first), "a range that ends before it starts");
    }
    require(!list.ranges.empty() || list.bad_lines == 0, "no range but bad lines, and no error");
    require(list.rule_count() == list.ranges.size(), "rule_count() is not the number of ranges");
    require(list.first_problems.size() == std::min(list.bad_lines, kBlocklistProblemsKept),
            "first_problems does not hold the first few bad lines");
    for (auto const& p : list.first_problems)
        require(p.starts_with("line "), "a kept problem without its line number");
}

void check_filter(Blocklist const& list)
{
    lt::ip_filter filter;
    add_to_filter(filter, list);
    auto const n = list.ranges.size();
    for (std::size_t i = 0; i < n; ++i) {
        if (i == kFilterChecks && n > 2 * kFilterChecks)
            i = n - kFilterChecks; // the first and the last few
        auto const& r = list.ranges[i];
        require((filter.access(r.first) & lt::ip_filter::blocked) != 0,
                "the first address of a range is not blocked");
        require((filter.access(r.last) & lt::ip_filter::blocked) != 0,
                "the last address of a range is not blocked");
    }
}

void check(std::string_view data)
{
    auto list = parse_blocklist(data, kMaxBytes);
    bool const plain = !is_gzip(data) && !is_zip(data);
    if (!list) {
        require(list.error().code == Errc::invalid_argument, "an error not invalid_argument");
        require(!list.error().message.empty(), "an error without a message");
    } else {
        check_list(*list);
        if (plain) {
            auto const lines = static_cast<std::size_t>(std::count(data.begin(), data.end(), '\n'));
            require(list->ranges.size() + list->bad_lines + list->unblocked_lines <= lines + 1,
                    "more ranges and counted lines than lines");
        }
        check_filter(*list);
    }

    auto tiny = parse_blocklist(data, kTinyBytes);
    if (plain && data.size() > kTinyBytes)
        require(!tiny, "plain text over the budget was read");
    if (tiny) {
        require(list.ok(), "read under the tiny budget, refused under the large one");
        require(same(*tiny, *list), "the budget changed what was read");
    }

    if (plain && data.size() <= kGzipAgainBytes) {
        auto again = parse_blocklist(gzip(data), kMaxBytes);
        require(again.ok() == list.ok(), "gzip changed whether the list is read");
        if (again)
            require(same(*again, *list), "gzip changed what was read");
        else
            require(again.error().message == list.error().message, "gzip changed the error");
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size)
{
    try {
        check(std::string_view(reinterpret_cast<char const*>(data), size));
    } catch (std::exception const& e) {
        // Pure functions over bounded input: parse_blocklist returns its errors.
        std::fprintf(stderr, "blocklist_fuzz: unexpected exception: %s\n", e.what());
        fail("exception");
    }
    return 0;
}
