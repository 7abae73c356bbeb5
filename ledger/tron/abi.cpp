#include "ledger/tron/abi.h"

namespace seedbox::tron {

namespace {

constexpr std::size_t kWord = 32;

void put_word(Bytes& out, Hash32 const& w)
{
    out.insert(out.end(), w.begin(), w.end());
}

void put_size(Bytes& out, std::size_t n)
{
    put_word(out, to_word(Uint256(n)));
}

// `bytes`: length, then the data right-padded to whole words.
void put_bytes(Bytes& out, Bytes const& b)
{
    put_size(out, b.size());
    out.insert(out.end(), b.begin(), b.end());
    out.resize(out.size() + (kWord - b.size() % kWord) % kWord, 0);
}

bool is_dynamic(AbiValue const& v)
{
    return !std::holds_alternative<Address>(v) && !std::holds_alternative<Uint256>(v) &&
           !std::holds_alternative<bool>(v);
}

Hash32 static_word(AbiValue const& v)
{
    if (auto a = std::get_if<Address>(&v))
        return a->abi_word();
    if (auto b = std::get_if<bool>(&v))
        return to_word(Uint256(*b ? 1 : 0));
    return to_word(std::get<Uint256>(v));
}

Bytes tail_of(AbiValue const& v)
{
    Bytes out;
    if (auto b = std::get_if<Bytes>(&v)) {
        put_bytes(out, *b);
    } else if (auto as = std::get_if<std::vector<Address>>(&v)) {
        put_size(out, as->size());
        for (auto const& a : *as)
            put_word(out, a.abi_word());
    } else if (auto us = std::get_if<std::vector<Uint256>>(&v)) {
        put_size(out, us->size());
        for (auto const& u : *us)
            put_word(out, to_word(u));
    } else {
        // bytes[]: length, one offset per element (from the start of the offsets), the elements.
        auto const& bs = std::get<std::vector<Bytes>>(v);
        put_size(out, bs.size());
        Bytes body;
        for (auto const& b : bs) {
            put_size(out, bs.size() * kWord + body.size());
            put_bytes(body, b);
        }
        out.insert(out.end(), body.begin(), body.end());
    }
    return out;
}

} // namespace

std::array<std::uint8_t, 4> abi_selector(std::string_view signature)
{
    auto h = keccak256(view(signature));
    return {h[0], h[1], h[2], h[3]};
}

Bytes abi_encode(std::vector<AbiValue> const& args)
{
    Bytes head, tail;
    for (auto const& v : args) {
        if (!is_dynamic(v)) {
            put_word(head, static_word(v));
            continue;
        }
        put_size(head, args.size() * kWord + tail.size());
        auto t = tail_of(v);
        tail.insert(tail.end(), t.begin(), t.end());
    }
    head.insert(head.end(), tail.begin(), tail.end());
    return head;
}

Bytes abi_call(std::string_view signature, std::vector<AbiValue> const& args)
{
    auto sel = abi_selector(signature);
    Bytes out(sel.begin(), sel.end());
    auto params = abi_encode(args);
    out.insert(out.end(), params.begin(), params.end());
    return out;
}

std::optional<Hash32> AbiReader::word_at(std::size_t offset) const
{
    if (offset > data_.size() || data_.size() - offset < kWord)
        return std::nullopt;
    Hash32 w;
    std::copy_n(data_.begin() + static_cast<std::ptrdiff_t>(offset), kWord, w.begin());
    return w;
}

namespace {
// A slot's byte offset; a slot so large that the product wraps maps past any data.
std::size_t slot_offset(std::size_t slot)
{
    return slot > SIZE_MAX / kWord ? SIZE_MAX : slot * kWord;
}
} // namespace

std::optional<std::size_t> AbiReader::offset_of(std::size_t slot) const
{
    auto v = uint(slot);
    if (!v || *v > data_.size())
        return std::nullopt;
    return static_cast<std::size_t>(*v);
}

std::optional<Uint256> AbiReader::uint(std::size_t slot) const
{
    auto w = word_at(slot_offset(slot));
    if (!w)
        return std::nullopt;
    return from_word(*w);
}

std::optional<bool> AbiReader::boolean(std::size_t slot) const
{
    auto v = uint(slot);
    if (!v || *v > 1)
        return std::nullopt;
    return *v == 1;
}

std::optional<Address> AbiReader::address(std::size_t slot) const
{
    auto w = word_at(slot_offset(slot));
    if (!w || std::any_of(w->begin(), w->begin() + 12, [](std::uint8_t b) { return b != 0; }))
        return std::nullopt;
    std::array<std::uint8_t, 20> evm;
    std::copy(w->begin() + 12, w->end(), evm.begin());
    return Address(evm);
}

std::optional<std::pair<std::size_t, Uint256>> AbiReader::dynamic(std::size_t slot) const
{
    auto at = offset_of(slot);
    if (!at)
        return std::nullopt;
    auto len = word_at(*at);
    if (!len)
        return std::nullopt;
    return std::make_pair(*at + kWord, from_word(*len));
}

std::optional<Bytes> AbiReader::bytes(std::size_t slot) const
{
    auto d = dynamic(slot);
    if (!d || d->second > data_.size() - d->first)
        return std::nullopt;
    auto first = data_.begin() + static_cast<std::ptrdiff_t>(d->first);
    return Bytes(first, first + static_cast<std::ptrdiff_t>(d->second));
}

std::optional<std::vector<Uint256>> AbiReader::uints(std::size_t slot) const
{
    auto d = dynamic(slot);
    if (!d || d->second > (data_.size() - d->first) / kWord)
        return std::nullopt;
    std::vector<Uint256> out;
    for (std::size_t i = 0; i < static_cast<std::size_t>(d->second); ++i)
        out.push_back(from_word(*word_at(d->first + kWord * i)));
    return out;
}

std::optional<std::string> abi_revert_reason(ByteView result)
{
    auto const sel = abi_selector("Error(string)");
    if (result.size() < 4 || !std::equal(sel.begin(), sel.end(), result.begin()))
        return std::nullopt;
    auto msg = AbiReader(result.subspan(4)).bytes(0);
    if (!msg)
        return std::nullopt;
    return std::string(msg->begin(), msg->end());
}

} // namespace seedbox::tron
