// IP blocklists as Transmission, qBittorrent and Deluge accept them, read into address ranges
// for libtorrent's ip_filter.
//
// parse_blocklist reads plain text or gzip (magic 1f 8b; several members are read in turn) and
// refuses zip. Each line is one of:
//   CIDR         10.0.0.0/8, 2001:db8::/32 (host bits are cleared), or a bare address (= /32, /128)
//   DAT (eMule)  001.009.096.105 - 001.009.096.105 , 000 , Some Org
//                (access level and description optional; a level above 127 is not blocked)
//   P2P          Some description:1.2.3.0-1.2.3.255 (PeerGuardian text; v6 ranges too)
// Blank lines and lines starting with '#' or '//' are skipped; CRLF and a UTF-8 BOM are fine.
// IPv4 octets are decimal with up to three digits, so 010.000.000.001 is 10.0.0.1 (not octal).
//
// A line's format is the first of these whose shape it has, and that format alone says whether
// it is valid: CIDR or bare address (the whole line is "addr/prefix" or an address), DAT (the
// text before the first ',' is "A - B", both addresses), P2P (B is what follows the last '-').
// P2P ends the description at the last ':' when the text from there to the '-' is an IPv4
// address; otherwise (IPv6) at the leftmost ':', among those in the run of address characters
// before the '-', after which an IPv6 address parses. So a description that ends in hex digits
// and colons right before an IPv6 range ("cafe:2001:db8::-...", "ab:cd:2001::-...") is read as
// part of the first address: a bad line when that puts it after the last address (cafe:...),
// else a wrong range (ab:cd:2001:db8::-2001:db8::ff). "Cafe Inc:2001:db8::-..." is fine.
//
// A range must have first <= last and one address family. A line that is none of the formats or
// breaks a rule is a bad line: counted, the first few kept with their line numbers, the rest of
// the list still read. A list with no range and at least one bad line is an error.
//
// Pure functions: no I/O, no logging, callable from any thread.
#pragma once

#include "daemon/base/errors.h"

#include <boost/asio/ip/address.hpp>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

// Declared, not included, so that code outside daemon/torrent may read this header without
// seeing libtorrent; blocklist.cpp includes <libtorrent/ip_filter.hpp>.
namespace libtorrent {
struct ip_filter;
}

namespace seedbox::daemon {

// Both ends inclusive, of one family, first <= last.
struct IpRange {
    boost::asio::ip::address first;
    boost::asio::ip::address last;
    friend bool operator==(IpRange const&, IpRange const&) = default;
};

// How many bad lines a Blocklist keeps a reason for.
inline constexpr std::size_t kBlocklistProblemsKept = 3;

struct Blocklist {
    std::vector<IpRange> ranges; // in the order of the file, overlaps not merged
    std::size_t bad_lines = 0;
    std::size_t unblocked_lines = 0; // DAT entries with an access level above 127
    // "line 7: range ends before it starts", for the first kBlocklistProblemsKept bad lines.
    std::vector<std::string> first_problems;

    [[nodiscard]] std::size_t rule_count() const { return ranges.size(); }
};

// Parses `data` (plain text or gzip). Errors (Errc::invalid_argument): zip input, corrupt or
// truncated gzip, more than `max_bytes` of text (after decompression: a gzip bomb stops there),
// and a list with no range but some bad lines (the message names their line numbers).
[[nodiscard]] Result<Blocklist> parse_blocklist(std::string_view data, std::size_t max_bytes);

// Adds every range of `list` to `filter` as blocked (lt::ip_filter::blocked); later rules
// override earlier ones where they overlap, as ip_filter::add_rule does.
void add_to_filter(libtorrent::ip_filter& filter, Blocklist const& list);

} // namespace seedbox::daemon
