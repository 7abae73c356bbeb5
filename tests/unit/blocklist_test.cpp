// IP blocklists (daemon/torrent/blocklist.cpp): each line format, gzip, the budget and the
// messages for bad lines, asserted as the exact ranges read.
#include "daemon/torrent/blocklist.h"

#include <doctest/doctest.h>
#include <libtorrent/ip_filter.hpp>
#include <string>
#include <vector>
#include <zlib.h>

using namespace seedbox::daemon;

namespace {

// Each range as "first-last", in order.
std::vector<std::string> ranges_of(Blocklist const& list)
{
    std::vector<std::string> out;
    for (auto const& r : list.ranges)
        out.push_back(r.first.to_string() + "-" + r.last.to_string());
    return out;
}

// Parses `text`, which must give a list (not an error).
Blocklist parse_ok(std::string_view text)
{
    auto list = parse_blocklist(text, 1 << 20);
    REQUIRE_MESSAGE(list.ok(), (list.ok() ? "" : list.error().message));
    return std::move(*list);
}

std::string error_of(std::string_view data, std::size_t max_bytes = 1 << 20)
{
    auto list = parse_blocklist(data, max_bytes);
    REQUIRE_FALSE(list.ok());
    CHECK(list.error().code == Errc::invalid_argument);
    return list.error().message;
}

// `text` as one gzip member, as a blocklist server would serve it.
std::string gzip(std::string_view text)
{
    z_stream z{};
    REQUIRE(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    std::string out(deflateBound(&z, static_cast<uLong>(text.size())), '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
    z.avail_in = static_cast<uInt>(text.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    CHECK(deflate(&z, Z_FINISH) == Z_STREAM_END);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

} // namespace

TEST_CASE("blocklist: P2P lines read the range after the description")
{
    auto const list = parse_ok("Some org: a:b:1.2.3.0-1.2.3.255\n"
                               "TCP/IP - Corp, Inc:5.6.7.8 - 5.6.7.9\n"
                               ":9.9.9.9-9.9.9.9\n"
                               "Evil corp:2001:db8::-2001:db8::ffff\n"
                               "v6 host:2001:db8::1-2001:db8::2\n"
                               "Cafe Inc:2001:db8::-2001:db8::ff\n"
                               "Mapped: ::ffff:1.2.3.4-::ffff:1.2.3.5\n");
    CHECK(ranges_of(list) == std::vector<std::string>{
                                 "1.2.3.0-1.2.3.255",
                                 "5.6.7.8-5.6.7.9",
                                 "9.9.9.9-9.9.9.9",
                                 "2001:db8::-2001:db8::ffff",
                                 "2001:db8::1-2001:db8::2",
                                 "2001:db8::-2001:db8::ff",
                                 "::ffff:1.2.3.4-::ffff:1.2.3.5",
                             });
    CHECK(list.bad_lines == 0);
    CHECK(list.rule_count() == 7);
}

TEST_CASE("blocklist: DAT octets with leading zeros are decimal and not octal")
{
    auto const list = parse_ok("010.000.000.001 - 010.000.000.255 , 000 , Some Org\n"
                               "001.009.096.105 - 001.009.096.105 , 100 , Org, with a comma\n"
                               "008.008.008.008 - 009.009.009.009\n"
                               "1.2.3.4-1.2.3.5,0,packed\n"
                               "2001:db8:: - 2001:db8::ff , 50 , v6 in DAT\n");
    CHECK(ranges_of(list) == std::vector<std::string>{
                                 "10.0.0.1-10.0.0.255",
                                 "1.9.96.105-1.9.96.105",
                                 "8.8.8.8-9.9.9.9",
                                 "1.2.3.4-1.2.3.5",
                                 "2001:db8::-2001:db8::ff",
                             });
    CHECK(list.bad_lines == 0);
    CHECK(list.unblocked_lines == 0);
}

TEST_CASE("blocklist: DAT entries above access level 127 are not blocked")
{
    auto const list = parse_ok("1.0.0.0 - 1.0.0.255 , 127 , blocked\n"
                               "2.0.0.0 - 2.0.0.255 , 128 , allowed\n"
                               "3.0.0.0 - 3.0.0.255 , 255 , allowed\n"
                               "4.0.0.0 - 4.0.0.255 , 000\n"
                               "5.0.0.0 - 5.0.0.255 , abc , level is no number\n");
    CHECK(ranges_of(list) == std::vector<std::string>{"1.0.0.0-1.0.0.255", "4.0.0.0-4.0.0.255"});
    CHECK(list.unblocked_lines == 2);
    CHECK(list.bad_lines == 1);
    CHECK(list.first_problems == std::vector<std::string>{"line 5: access level is not a number"});
}

TEST_CASE("blocklist: CIDR blocks and bare addresses")
{
    auto const list = parse_ok("10.0.0.0/8\n"
                               "192.168.1.77/24\n"
                               "1.2.3.4\n"
                               "1.2.3.4/32\n"
                               "0.0.0.0/0\n"
                               "2001:db8::/32\n"
                               "2001:db8::/33\n"
                               "fe80::/10\n"
                               "::1\n"
                               "::/0\n"
                               "010.001.000.000 / 16\n");
    CHECK(ranges_of(list) == std::vector<std::string>{
                                 "10.0.0.0-10.255.255.255",
                                 "192.168.1.0-192.168.1.255",
                                 "1.2.3.4-1.2.3.4",
                                 "1.2.3.4-1.2.3.4",
                                 "0.0.0.0-255.255.255.255",
                                 "2001:db8::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
                                 "2001:db8::-2001:db8:7fff:ffff:ffff:ffff:ffff:ffff",
                                 "fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                                 "::1-::1",
                                 "::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                                 "10.1.0.0-10.1.255.255",
                             });
    CHECK(list.bad_lines == 0);
}

TEST_CASE("blocklist: a CIDR prefix longer than the address is refused")
{
    auto const list = parse_ok("10.0.0.0/33\n"
                               "2001:db8::/129\n"
                               "1.2.3.0/x\n"
                               "1.2.3.0/\n"
                               "1.2.3.0/24\n"
                               "1.2.3.256\n"
                               "0001.2.3.4\n");
    CHECK(ranges_of(list) == std::vector<std::string>{"1.2.3.0-1.2.3.255"});
    CHECK(list.bad_lines == 6);
    CHECK(list.first_problems == std::vector<std::string>{
                                     "line 1: prefix length longer than the address",
                                     "line 2: prefix length longer than the address",
                                     "line 3: prefix length is not a number",
                                 });
}

TEST_CASE("blocklist: comments blank lines CRLF and a BOM are skipped")
{
    auto const list = parse_ok("\xEF\xBB\xBF# a comment\r\n"
                               "// another\r\n"
                               "\r\n"
                               "   \t\r\n"
                               "  # indented comment\r\n"
                               "Org:1.1.1.0-1.1.1.255\r\n"
                               "1.2.3.0 - 1.2.3.255 , 000 , DAT\r\n"
                               "10.0.0.0/8\r\n"
                               "garbage\r\n"
                               "2.2.2.2");
    CHECK(ranges_of(list) == std::vector<std::string>{
                                 "1.1.1.0-1.1.1.255",
                                 "1.2.3.0-1.2.3.255",
                                 "10.0.0.0-10.255.255.255",
                                 "2.2.2.2-2.2.2.2",
                             });
    CHECK(list.bad_lines == 1);
    CHECK(list.first_problems == std::vector<std::string>{"line 9: not an address range"});
}

TEST_CASE("blocklist: a range that ends before it starts is refused")
{
    auto const list = parse_ok("Backwards:1.2.3.255-1.2.3.0\n"
                               "1.2.3.255 - 1.2.3.0 , 000 , backwards DAT\n"
                               "v6:2001:db8::ff-2001:db8::1\n"
                               "Fine:1.2.3.0-1.2.3.0\n"
                               // Not read as P2P "2001" + "db8::ff-2001:db8::1", a valid range.
                               "2001:db8::ff - 2001:db8::1\n");
    CHECK(ranges_of(list) == std::vector<std::string>{"1.2.3.0-1.2.3.0"});
    CHECK(list.bad_lines == 4);
    CHECK(list.first_problems == std::vector<std::string>{
                                     "line 1: range ends before it starts",
                                     "line 2: range ends before it starts",
                                     "line 3: range ends before it starts",
                                 });
}

TEST_CASE("blocklist: a P2P description of hex digits before an IPv6 range is ambiguous")
{
    // Read as the address cafe:2001:db8:: (DAT's "A - B"), after the last: a bad line. A
    // description like "ab" (ab:2001:db8:: is before 2001:db8::ff) would give a wrong range.
    auto const list = parse_ok("cafe:2001:db8::-2001:db8::ff\n"
                               "beef:cd:2001:db8::-2001:db8::ff\n"
                               "Cafe:1.2.3.0-1.2.3.255\n");
    CHECK(ranges_of(list) == std::vector<std::string>{"1.2.3.0-1.2.3.255"});
    CHECK(list.first_problems == std::vector<std::string>{
                                     "line 1: range ends before it starts",
                                     "line 2: range ends before it starts",
                                 });
}

TEST_CASE("blocklist: a range mixing IPv4 and IPv6 is refused")
{
    auto const list = parse_ok("Mixed:1.2.3.4-2001:db8::1\n"
                               "2001:db8::1 - 1.2.3.4 , 000\n"
                               "Mixed v6 first:::1-1.2.3.4\n"
                               "Fine:::1-::2\n");
    CHECK(ranges_of(list) == std::vector<std::string>{"::1-::2"});
    CHECK(list.bad_lines == 3);
    CHECK(list.first_problems == std::vector<std::string>{
                                     "line 1: range mixes IPv4 and IPv6",
                                     "line 2: range mixes IPv4 and IPv6",
                                     "line 3: range mixes IPv4 and IPv6",
                                 });
}

TEST_CASE("blocklist: one file may mix every format")
{
    auto const list = parse_ok("# PeerGuardian, eMule and CIDR in one file\n"
                               "PK Org:3.3.3.0-3.3.3.255\n"
                               "004.004.004.000 - 004.004.004.255 , 010 , DAT\n"
                               "5.5.0.0/16\n"
                               "6.6.6.6\n"
                               "v6 P2P:2001:db8:1::-2001:db8:1::ffff\n"
                               "2001:db8:2::/48\n");
    CHECK(ranges_of(list) == std::vector<std::string>{
                                 "3.3.3.0-3.3.3.255",
                                 "4.4.4.0-4.4.4.255",
                                 "5.5.0.0-5.5.255.255",
                                 "6.6.6.6-6.6.6.6",
                                 "2001:db8:1::-2001:db8:1::ffff",
                                 "2001:db8:2::-2001:db8:2:ffff:ffff:ffff:ffff:ffff",
                             });
    CHECK(list.bad_lines == 0);
}

TEST_CASE("blocklist: gzip input is decompressed including concatenated members")
{
    auto const text = std::string("Org:1.2.3.0-1.2.3.255\n10.0.0.0/8\n");
    auto const one = parse_blocklist(gzip(text), 1 << 20);
    REQUIRE(one.ok());
    CHECK(ranges_of(one.value()) ==
          std::vector<std::string>{"1.2.3.0-1.2.3.255", "10.0.0.0-10.255.255.255"});

    auto const two = parse_blocklist(gzip(text) + gzip("2001:db8::/32\n"), 1 << 20);
    REQUIRE(two.ok());
    CHECK(ranges_of(two.value()) == std::vector<std::string>{
                                        "1.2.3.0-1.2.3.255",
                                        "10.0.0.0-10.255.255.255",
                                        "2001:db8::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
                                    });
}

TEST_CASE("blocklist: the size budget holds for plain and decompressed text")
{
    auto const text = std::string("1.2.3.4\n"); // 8 bytes
    CHECK(parse_blocklist(text, 8).ok());
    CHECK(error_of(text, 7) == "blocklist larger than 7 bytes");
    CHECK(parse_blocklist(gzip(text), 8).ok());
    CHECK(error_of(gzip(text), 7) == "blocklist larger than 7 bytes when decompressed");
}

TEST_CASE("blocklist: a gzip bomb over the budget is refused")
{
    // 16 MiB of comment lines compress to well under 100 KiB.
    std::string huge(16u << 20, '#');
    for (std::size_t i = 100; i < huge.size(); i += 101)
        huge[i] = '\n';
    auto const bomb = gzip(huge);
    CHECK(bomb.size() < (100u << 10));
    CHECK(error_of(bomb, 1u << 20) == "blocklist larger than 1048576 bytes when decompressed");
}

TEST_CASE("blocklist: truncated corrupt or trailing gzip data is refused")
{
    auto const good = gzip("Org:1.2.3.0-1.2.3.255\n");
    CHECK(error_of(good.substr(0, good.size() - 6)) == "gzip blocklist is truncated");
    auto corrupt = good; // the CRC-32 of the text, the first half of the 8-byte trailer
    corrupt[good.size() - 8] = static_cast<char>(corrupt[good.size() - 8] ^ 0xff);
    CHECK(error_of(corrupt) == "corrupt gzip blocklist: incorrect data check");
    CHECK(error_of(good + "junk") == "data after the end of the gzip blocklist");
}

TEST_CASE("blocklist: zip archives are refused with a clear message")
{
    auto const zip = std::string("PK\x03\x04\x14\x00\x00\x00", 8) + "rest of an archive";
    CHECK(error_of(zip) == "zip blocklists are not supported: use a gzip (.gz) or plain text list");
    // "PK" alone starts an ordinary P2P line.
    CHECK(ranges_of(parse_ok("PKO Bank:1.2.3.4-1.2.3.4\n")) ==
          std::vector<std::string>{"1.2.3.4-1.2.3.4"});
}

TEST_CASE("blocklist: a list of only bad lines is an error naming their line numbers")
{
    CHECK(error_of("<html>\n# comment\n<body>not found</body>\n\n300.1.1.1\n10.0.0.0/40\n") ==
          "no address range in the blocklist, 4 bad lines (line 1: not an address range; "
          "line 3: not an address range; line 5: not an address range; ...)");
    CHECK(error_of("Backwards:1.2.3.255-1.2.3.0") ==
          "no address range in the blocklist, 1 bad line (line 1: range ends before it starts)");
}

TEST_CASE("blocklist: an empty list or one of comments and allowed entries is no error")
{
    CHECK(parse_ok("").rule_count() == 0);
    CHECK(parse_ok("# nothing\n\n// here\n").rule_count() == 0);
    auto const allowed = parse_ok("1.0.0.0 - 1.0.0.255 , 200 , allowed\n");
    CHECK(allowed.rule_count() == 0);
    CHECK(allowed.unblocked_lines == 1);
}

TEST_CASE("blocklist: add_to_filter blocks every range and nothing else")
{
    auto const list = parse_ok("Org:1.2.3.0-1.2.3.255\n2001:db8::/32\n");
    lt::ip_filter filter;
    add_to_filter(filter, list);
    auto const blocked = static_cast<std::uint32_t>(lt::ip_filter::blocked);
    CHECK(filter.access(boost::asio::ip::make_address("1.2.3.0")) == blocked);
    CHECK(filter.access(boost::asio::ip::make_address("1.2.3.255")) == blocked);
    CHECK(filter.access(boost::asio::ip::make_address("1.2.4.0")) == 0);
    CHECK(filter.access(boost::asio::ip::make_address("1.2.2.255")) == 0);
    CHECK(filter.access(boost::asio::ip::make_address("2001:db8:ffff::1")) == blocked);
    CHECK(filter.access(boost::asio::ip::make_address("2001:db9::")) == 0);
    CHECK(list.ranges.front() == IpRange{boost::asio::ip::make_address("1.2.3.0"),
                                         boost::asio::ip::make_address("1.2.3.255")});
}
