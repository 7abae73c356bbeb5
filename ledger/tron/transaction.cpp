#include "ledger/tron/transaction.h"

namespace seedbox::tron {

namespace {

// The few proto3 wire pieces a transaction needs: varints, tags, length-delimited fields.
class Proto {
public:
    Proto& varint_field(int field, std::uint64_t v)
    {
        if (v == 0)
            return *this; // proto3 default: not written
        tag(field, 0);
        varint(v);
        return *this;
    }
    Proto& bytes_field(int field, ByteView b)
    {
        if (b.empty())
            return *this;
        tag(field, 2);
        varint(b.size());
        out_.insert(out_.end(), b.begin(), b.end());
        return *this;
    }
    Proto& string_field(int field, std::string_view s) { return bytes_field(field, view(s)); }
    Bytes take() { return std::move(out_); }

private:
    void tag(int field, int wire) { varint(static_cast<std::uint64_t>(field) << 3 | wire); }
    void varint(std::uint64_t v)
    {
        while (v >= 0x80) {
            out_.push_back(static_cast<std::uint8_t>(v | 0x80));
            v >>= 7;
        }
        out_.push_back(static_cast<std::uint8_t>(v));
    }
    Bytes out_;
};

ByteView addr(Address const& a, std::array<std::uint8_t, 21>& buf)
{
    buf = a.bytes();
    return buf;
}

Bytes raw_with(TxHeader const& h, int type, std::string_view type_name, Bytes const& value)
{
    auto any =
        Proto()
            .string_field(1, std::string("type.googleapis.com/protocol.") + std::string(type_name))
            .bytes_field(2, value)
            .take();
    auto contract = Proto()
                        .varint_field(1, static_cast<std::uint64_t>(type))
                        .bytes_field(2, any)
                        .varint_field(5, static_cast<std::uint64_t>(h.permission_id))
                        .take();
    return Proto()
        .bytes_field(1, h.ref.bytes)
        .bytes_field(4, h.ref.hash)
        .varint_field(8, static_cast<std::uint64_t>(h.expiration))
        .bytes_field(11, contract)
        .varint_field(14, static_cast<std::uint64_t>(h.timestamp))
        .varint_field(18, static_cast<std::uint64_t>(h.fee_limit))
        .take();
}

} // namespace

RefBlock ref_block(std::int64_t number, Hash32 const& block_id)
{
    RefBlock r;
    auto n = static_cast<std::uint64_t>(number);
    r.bytes = {static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n)};
    std::copy(block_id.begin() + 8, block_id.begin() + 16, r.hash.begin());
    return r;
}

Bytes encode(TriggerSmartContract const& c)
{
    std::array<std::uint8_t, 21> a, b;
    return Proto()
        .bytes_field(1, addr(c.owner, a))
        .bytes_field(2, addr(c.contract, b))
        .varint_field(3, static_cast<std::uint64_t>(c.call_value))
        .bytes_field(4, c.data)
        .take();
}

Bytes encode(TransferContract const& c)
{
    std::array<std::uint8_t, 21> a, b;
    return Proto()
        .bytes_field(1, addr(c.owner, a))
        .bytes_field(2, addr(c.to, b))
        .varint_field(3, static_cast<std::uint64_t>(c.amount))
        .take();
}

Bytes raw_data(TxHeader const& h, TriggerSmartContract const& c)
{
    return raw_with(h, 31, "TriggerSmartContract", encode(c));
}

Bytes raw_data(TxHeader const& h, TransferContract const& c)
{
    return raw_with(h, 1, "TransferContract", encode(c));
}

Bytes encode_transaction(ByteView raw, std::vector<Signature> const& signatures)
{
    Proto p;
    p.bytes_field(1, raw);
    for (auto const& s : signatures)
        p.bytes_field(2, s);
    return p.take();
}

SignedTransaction sign_transaction(PrivateKey const& key, Bytes raw)
{
    SignedTransaction t;
    t.id = tx_id(raw);
    t.signature = key.sign(t.id);
    t.encoded = encode_transaction(raw, {t.signature});
    t.raw = std::move(raw);
    return t;
}

} // namespace seedbox::tron
