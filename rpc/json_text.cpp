#include "rpc/json_text.h"

#include <charconv>
#include <cmath>

namespace seedbox::rpc {

namespace {

// Where a UTF-8 sequence led by `lead` may continue: its length and the range of its second byte
// (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF). Length 0: not a lead byte.
struct Lead {
    int length;
    unsigned char lo, hi;
};

Lead lead_of(unsigned char b)
{
    if (b >= 0xC2 && b <= 0xDF)
        return {2, 0x80, 0xBF};
    if (b == 0xE0)
        return {3, 0xA0, 0xBF};
    if (b == 0xED)
        return {3, 0x80, 0x9F};
    if (b >= 0xE1 && b <= 0xEF)
        return {3, 0x80, 0xBF};
    if (b == 0xF0)
        return {4, 0x90, 0xBF};
    if (b >= 0xF1 && b <= 0xF3)
        return {4, 0x80, 0xBF};
    if (b == 0xF4)
        return {4, 0x80, 0x8F};
    return {0, 0, 0};
}

// The length of the valid sequence at s[i] (a byte >= 0x80), or, negated, how many bytes to drop
// for one U+FFFD: the lead and the continuation bytes that fit, never the byte that broke it,
// which is read again as the start of what follows.
int sequence_at(std::string_view s, std::size_t i)
{
    auto const lead = lead_of(static_cast<unsigned char>(s[i]));
    if (lead.length == 0)
        return -1;
    for (int k = 1; k < lead.length; ++k) {
        if (i + k >= s.size())
            return -k;
        auto const c = static_cast<unsigned char>(s[i + k]);
        auto const lo = k == 1 ? lead.lo : 0x80, hi = k == 1 ? lead.hi : 0xBF;
        if (c < lo || c > hi)
            return -k;
    }
    return lead.length;
}

bool plain(unsigned char c)
{
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

void escape(std::string& out, unsigned char c)
{
    switch (c) {
    case '"':
        out += "\\\"";
        return;
    case '\\':
        out += "\\\\";
        return;
    case '\b':
        out += "\\b";
        return;
    case '\t':
        out += "\\t";
        return;
    case '\n':
        out += "\\n";
        return;
    case '\f':
        out += "\\f";
        return;
    case '\r':
        out += "\\r";
        return;
    default:
        static constexpr char hex[] = "0123456789abcdef";
        out += "\\u00";
        out += hex[c >> 4];
        out += hex[c & 0xF];
    }
}

} // namespace

void JsonText::string(std::string_view s)
{
    out_ += '"';
    std::size_t i = 0;
    while (i < s.size()) {
        auto run = i;
        while (run < s.size() && plain(static_cast<unsigned char>(s[run])))
            ++run;
        out_.append(s.data() + i, run - i);
        if (run == s.size())
            break;
        i = run;
        auto const c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            escape(out_, c);
            ++i;
            continue;
        }
        auto const n = sequence_at(s, i);
        if (n > 0) {
            out_.append(s.data() + i, static_cast<std::size_t>(n));
            i += static_cast<std::size_t>(n);
        } else {
            out_ += "\xEF\xBF\xBD";
            i += static_cast<std::size_t>(-n);
        }
    }
    out_ += '"';
}

void JsonText::integer(std::int64_t v)
{
    char buf[24];
    auto const r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
}

void JsonText::number(double v)
{
    if (!std::isfinite(v))
        return null();
    char buf[32];
    auto const r = std::to_chars(buf, buf + sizeof buf, v);
    std::string_view const text(buf, static_cast<std::size_t>(r.ptr - buf));
    out_ += text;
    if (text.find_first_of(".e") == std::string_view::npos)
        out_ += ".0"; // a double stays a double: 1.0, not 1
}

} // namespace seedbox::rpc
