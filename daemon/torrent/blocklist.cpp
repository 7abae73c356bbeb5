// Blocklist parsing: gzip through zlib, then one pass over the lines with string_views, so a
// 300k-line list costs no allocation per line (only the ranges vector grows).
#include "daemon/torrent/blocklist.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <libtorrent/ip_filter.hpp>
#include <optional>
#include <zlib.h>

namespace seedbox::daemon {

namespace {

namespace ip = boost::asio::ip;

// Output is inflated in steps of this size; input is handed to zlib (whose counts are 32-bit)
// in pieces of at most kInChunk.
constexpr std::size_t kOutChunk = 256 * 1024;
constexpr std::size_t kInChunk = std::size_t{1} << 30;

bool is_gzip(std::string_view data)
{
    return data.size() >= 2 && static_cast<unsigned char>(data[0]) == 0x1f &&
           static_cast<unsigned char>(data[1]) == 0x8b;
}

// Local file header, empty archive and spanned archive: "PK" alone could start a P2P line.
bool is_zip(std::string_view data)
{
    return data.starts_with(std::string_view("PK\x03\x04", 4)) ||
           data.starts_with(std::string_view("PK\x05\x06", 4)) ||
           data.starts_with(std::string_view("PK\x07\x08", 4));
}

Error too_large(std::size_t max_bytes, bool compressed)
{
    return make_error(Errc::invalid_argument, "blocklist larger than " + std::to_string(max_bytes) +
                                                  " bytes" +
                                                  (compressed ? " when decompressed" : ""));
}

// A z_stream set up for gzip, ended however the caller leaves.
class Inflater {
public:
    Inflater() { ok_ = inflateInit2(&z_, 16 + MAX_WBITS) == Z_OK; }
    ~Inflater()
    {
        if (ok_)
            inflateEnd(&z_);
    }
    Inflater(Inflater const&) = delete;
    Inflater& operator=(Inflater const&) = delete;
    [[nodiscard]] bool ok() const { return ok_; }
    z_stream& z() { return z_; }

private:
    z_stream z_{};
    bool ok_ = false;
};

std::string zlib_message(z_stream const& z, int rc)
{
    if (z.msg != nullptr)
        return z.msg;
    return rc == Z_MEM_ERROR ? "out of memory" : "zlib error " + std::to_string(rc);
}

// One inflate step into the tail of `out`, never letting it pass max_bytes + 1 bytes (so that
// one byte too many shows the limit is crossed without inflating the rest of a bomb).
int inflate_step(z_stream& z, std::string& out, std::size_t max_bytes)
{
    auto const left = max_bytes - out.size();
    auto const room = left >= kOutChunk ? kOutChunk : left + 1;
    auto const old = out.size();
    out.resize(old + room);
    z.next_out = reinterpret_cast<Bytef*>(out.data() + old);
    z.avail_out = static_cast<uInt>(room);
    int const rc = inflate(&z, Z_NO_FLUSH);
    out.resize(old + room - z.avail_out);
    return rc;
}

// Inflates every gzip member of `in` (as gzip -d does for concatenated files).
Result<std::string> gunzip(std::string_view in, std::size_t max_bytes)
{
    Inflater inflater;
    if (!inflater.ok())
        return make_error(Errc::invalid_argument, "cannot start zlib to read the gzip blocklist");
    auto& z = inflater.z();
    auto const* const end = reinterpret_cast<Bytef const*>(in.data() + in.size());
    auto const* next = reinterpret_cast<Bytef const*>(in.data());
    std::string out;
    out.reserve(std::min(max_bytes, in.size() * 4));
    for (;;) {
        if (z.avail_in == 0 && next != end) {
            auto const take = std::min<std::size_t>(static_cast<std::size_t>(end - next), kInChunk);
            z.next_in = const_cast<Bytef*>(next);
            z.avail_in = static_cast<uInt>(take);
            next += take;
        }
        int const rc = inflate_step(z, out, max_bytes);
        if (out.size() > max_bytes)
            return too_large(max_bytes, true);
        if (rc == Z_OK)
            continue;
        if (rc == Z_BUF_ERROR && z.avail_in == 0 && next == end)
            return make_error(Errc::invalid_argument, "gzip blocklist is truncated");
        if (rc != Z_STREAM_END)
            return make_error(Errc::invalid_argument,
                              "corrupt gzip blocklist: " + zlib_message(z, rc));
        // The unread input is contiguous from next_in: another member, or the end.
        auto const rest = std::string_view(reinterpret_cast<char const*>(z.next_in),
                                           static_cast<std::size_t>(end - z.next_in));
        if (rest.empty())
            return out;
        if (!is_gzip(rest))
            return make_error(Errc::invalid_argument, "data after the end of the gzip blocklist");
        inflateReset(&z);
        next = z.next_in;
        z.avail_in = 0;
    }
}

std::string_view trim(std::string_view s)
{
    auto const first = s.find_first_not_of(" \t");
    if (first == std::string_view::npos)
        return {};
    return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

// Dotted quad, each octet 1 to 3 decimal digits: leading zeros are decimal (eMule writes them),
// not the octal that inet_aton would read, and inet_pton would refuse them.
std::optional<ip::address_v4> parse_v4(std::string_view s)
{
    std::uint32_t value = 0;
    std::size_t i = 0;
    for (int octet = 0; octet < 4; ++octet) {
        if (octet > 0) {
            if (i >= s.size() || s[i] != '.')
                return std::nullopt;
            ++i;
        }
        unsigned part = 0;
        std::size_t digits = 0;
        for (; i < s.size() && is_digit(s[i]) && digits < 4; ++i, ++digits)
            part = part * 10 + static_cast<unsigned>(s[i] - '0');
        if (digits == 0 || digits > 3 || part > 255)
            return std::nullopt;
        value = value << 8 | part;
    }
    if (i != s.size())
        return std::nullopt;
    return ip::address_v4(value);
}

// Checks the length first, so that trying many splits of a long line stays linear.
std::optional<ip::address> parse_address(std::string_view s)
{
    // The longest IPv6 text is 45 characters; a scope id (%eth0) means nothing in a blocklist.
    std::array<char, 48> buf{};
    if (s.size() >= buf.size())
        return std::nullopt;
    if (s.find(':') == std::string_view::npos) {
        if (auto v4 = parse_v4(s))
            return ip::address(*v4);
        return std::nullopt;
    }
    if (s.find('%') != std::string_view::npos)
        return std::nullopt;
    std::memcpy(buf.data(), s.data(), s.size());
    boost::system::error_code ec;
    auto const v6 = ip::make_address_v6(buf.data(), ec);
    if (ec)
        return std::nullopt;
    return ip::address(v6);
}

// What one format makes of a line: not its shape, a bad line of its shape, a range, or an entry
// that is valid but not blocked (DAT level > 127).
enum class Shape { none, bad, range, unblocked };

struct Parsed {
    Shape shape = Shape::none;
    IpRange range{};
    char const* reason = nullptr; // for Shape::bad
};

Parsed bad(char const* reason)
{
    return {Shape::bad, {}, reason};
}

Parsed make_range(ip::address const& first, ip::address const& last)
{
    if (first.is_v4() != last.is_v4())
        return bad("range mixes IPv4 and IPv6");
    if (last < first)
        return bad("range ends before it starts");
    return {Shape::range, {first, last}, nullptr};
}

// The range `addr/prefix` covers (prefix checked), host bits cleared.
IpRange cidr_range(ip::address const& addr, unsigned prefix)
{
    if (addr.is_v4()) {
        auto const mask = prefix == 0 ? std::uint32_t{0} : ~std::uint32_t{0} << (32 - prefix);
        auto const low = addr.to_v4().to_uint() & mask;
        return {ip::address_v4(low), ip::address_v4(low | ~mask)};
    }
    auto low = addr.to_v6().to_bytes();
    auto high = low;
    for (std::size_t i = 0; i < low.size(); ++i) {
        auto const bits = std::clamp(static_cast<int>(prefix) - static_cast<int>(i * 8), 0, 8);
        auto const mask = static_cast<unsigned char>(0xff00u >> bits);
        low[i] = static_cast<unsigned char>(low[i] & mask);
        high[i] = static_cast<unsigned char>(low[i] | ~mask);
    }
    return {ip::address_v6(low), ip::address_v6(high)};
}

// "addr/prefix" or a bare address, as the whole line.
Parsed parse_cidr(std::string_view line)
{
    auto const slash = line.rfind('/');
    if (slash == std::string_view::npos) {
        if (auto addr = parse_address(line))
            return {Shape::range, {*addr, *addr}, nullptr};
        return {};
    }
    auto const addr = parse_address(trim(line.substr(0, slash)));
    if (!addr)
        return {};
    auto const digits = trim(line.substr(slash + 1));
    unsigned prefix = 0;
    auto const [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size())
        return bad("prefix length is not a number");
    if (prefix > (addr->is_v4() ? 32u : 128u))
        return bad("prefix length longer than the address");
    return {Shape::range, cidr_range(*addr, prefix), nullptr};
}

// "A - B [, level [, description]]": the field before the first ',' must be an address range.
Parsed parse_dat(std::string_view line)
{
    auto const comma = line.find(',');
    auto const field = line.substr(0, comma);
    auto const dash = field.find('-');
    if (dash == std::string_view::npos || field.find('-', dash + 1) != std::string_view::npos)
        return {};
    auto const first = parse_address(trim(field.substr(0, dash)));
    auto const last = parse_address(trim(field.substr(dash + 1)));
    if (!first || !last)
        return {};
    auto parsed = make_range(*first, *last);
    if (parsed.shape != Shape::range || comma == std::string_view::npos)
        return parsed;
    auto const rest = line.substr(comma + 1);
    auto const level_text = trim(rest.substr(0, rest.find(',')));
    unsigned level = 0;
    auto const [end, ec] =
        std::from_chars(level_text.data(), level_text.data() + level_text.size(), level);
    if (level_text.empty() || ec != std::errc{} || end != level_text.data() + level_text.size())
        return bad("access level is not a number");
    // eMule blocks at levels up to 127; the ones above are explicitly allowed.
    if (level > 127)
        parsed.shape = Shape::unblocked;
    return parsed;
}

bool is_address_char(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
           c == '.' || c == ' ' || c == '\t';
}

// IPv6 P2P: the description ends at one of the colons of the run of address characters just
// before the last '-'. The leftmost one after which an address parses decides: a later one would
// cut the first address short ("db8::1" of "2001:db8::1" is an address too) and could turn a
// reversed range into a valid wrong one.
Parsed parse_p2p_v6(std::string_view line, std::size_t dash, ip::address const& last)
{
    // Trimmed once here, so that the candidates cost O(line) together, however many.
    auto const end = line.substr(0, dash).find_last_not_of(" \t") + 1;
    std::size_t start = end;
    while (start > 0 && is_address_char(line[start - 1]))
        --start;
    for (auto colon = line.find(':', start); colon < end; colon = line.find(':', colon + 1)) {
        if (auto const first = parse_address(trim(line.substr(colon + 1, end - colon - 1))))
            return make_range(*first, last);
    }
    return {};
}

// "description:A-B". IPv4 ranges hold no ':', so for them the last ':' ends the description.
Parsed parse_p2p(std::string_view line)
{
    auto const dash = line.rfind('-');
    if (dash == std::string_view::npos)
        return {};
    auto const last = parse_address(trim(line.substr(dash + 1)));
    if (!last)
        return {};
    auto const head = line.substr(0, dash);
    auto const colon = head.rfind(':');
    if (colon == std::string_view::npos)
        return {};
    // Only before an IPv4 last address: "::ffff:1.2.3.4-::ffff:1.2.3.5" ends in IPv4 text too.
    if (last->is_v4()) {
        if (auto const first = parse_v4(trim(head.substr(colon + 1))))
            return make_range(ip::address(*first), *last);
    }
    return parse_p2p_v6(line, dash, *last);
}

// The first format whose shape the line has decides, valid or bad: falling through to another
// reading of a bad line could turn a reversed range into a valid wrong one.
Parsed parse_line(std::string_view line)
{
    for (auto* format : {parse_cidr, parse_dat, parse_p2p}) {
        if (auto parsed = format(line); parsed.shape != Shape::none)
            return parsed;
    }
    return bad("not an address range");
}

bool is_comment(std::string_view line)
{
    return line.empty() || line.starts_with('#') || line.starts_with("//");
}

void note_bad_line(Blocklist& list, std::size_t line_no, char const* reason)
{
    ++list.bad_lines;
    if (list.first_problems.size() < kBlocklistProblemsKept)
        list.first_problems.push_back("line " + std::to_string(line_no) + ": " + reason);
}

Blocklist parse_lines(std::string_view text)
{
    Blocklist list;
    if (text.starts_with("\xEF\xBB\xBF"))
        text.remove_prefix(3);
    list.ranges.reserve(static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1);
    std::size_t line_no = 0;
    while (!text.empty()) {
        auto const nl = text.find('\n');
        auto line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        ++line_no;
        if (line.ends_with('\r'))
            line.remove_suffix(1);
        line = trim(line);
        if (is_comment(line))
            continue;
        auto const parsed = parse_line(line);
        if (parsed.shape == Shape::range)
            list.ranges.push_back(parsed.range);
        else if (parsed.shape == Shape::unblocked)
            ++list.unblocked_lines;
        else
            note_bad_line(list, line_no, parsed.reason);
    }
    list.ranges.shrink_to_fit();
    return list;
}

std::string no_range_message(Blocklist const& list)
{
    std::string msg = "no address range in the blocklist, " + std::to_string(list.bad_lines) +
                      " bad line" + (list.bad_lines == 1 ? "" : "s") + " (";
    for (std::size_t i = 0; i < list.first_problems.size(); ++i)
        msg += (i == 0 ? "" : "; ") + list.first_problems[i];
    if (list.bad_lines > list.first_problems.size())
        msg += "; ...";
    return msg + ")";
}

} // namespace

Result<Blocklist> parse_blocklist(std::string_view data, std::size_t max_bytes)
{
    if (is_zip(data))
        return make_error(Errc::invalid_argument,
                          "zip blocklists are not supported: use a gzip (.gz) or plain text list");
    std::string inflated;
    if (is_gzip(data)) {
        auto text = gunzip(data, max_bytes);
        if (!text)
            return text.error();
        inflated = std::move(*text);
        data = inflated;
    } else if (data.size() > max_bytes) {
        return too_large(max_bytes, false);
    }
    auto list = parse_lines(data);
    if (list.ranges.empty() && list.bad_lines > 0)
        return make_error(Errc::invalid_argument, no_range_message(list));
    return list;
}

void add_to_filter(libtorrent::ip_filter& filter, Blocklist const& list)
{
    for (auto const& r : list.ranges)
        filter.add_rule(r.first, r.last, libtorrent::ip_filter::blocked);
}

} // namespace seedbox::daemon
