#include "ledger/tron/voucher.h"

#include <algorithm>

namespace seedbox::tron {

namespace {

template <class... Words> Hash32 hash_words(Words const&... words)
{
    std::array<std::uint8_t, 32 * sizeof...(Words)> buf;
    auto it = buf.begin();
    ((it = std::copy(words.begin(), words.end(), it)), ...);
    return keccak256(buf);
}

Hash32 const& claim_type_hash()
{
    static Hash32 const h =
        keccak256(view("Claim(address payer,address beneficiary,uint256 cumulative)"));
    return h;
}

} // namespace

VoucherSigner::VoucherSigner(VoucherDomain domain)
{
    static Hash32 const type = keccak256(
        view("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"));
    domain_separator_ =
        hash_words(type, keccak256(view("SeedboxClaimHub")), keccak256(view("1")),
                   to_word(static_cast<std::uint64_t>(domain.chain_id)), domain.hub.abi_word());
}

Hash32 VoucherSigner::digest(Address const& payer, Address const& beneficiary,
                             Uint256 const& cumulative) const
{
    auto s = hash_words(claim_type_hash(), payer.abi_word(), beneficiary.abi_word(),
                        to_word(cumulative));
    std::array<std::uint8_t, 66> pre;
    pre[0] = 0x19;
    pre[1] = 0x01;
    std::copy(domain_separator_.begin(), domain_separator_.end(), pre.begin() + 2);
    std::copy(s.begin(), s.end(), pre.begin() + 34);
    return keccak256(pre);
}

Signature VoucherSigner::sign(PrivateKey const& payer, Address const& beneficiary,
                              Uint256 const& cumulative) const
{
    return payer.sign(digest(payer.address(), beneficiary, cumulative));
}

VoucherSigner::Check VoucherSigner::verify(Address const& payer, Address const& beneficiary,
                                           Uint256 const& cumulative, ByteView signature,
                                           Uint256 const& last_kept) const
{
    if (cumulative <= last_kept)
        return Check::not_increasing;
    auto r = recover(digest(payer, beneficiary, cumulative), signature);
    if (!r.address)
        return Check::bad_signature;
    return *r.address == payer ? Check::ok : Check::wrong_signer;
}

char const* describe(VoucherSigner::Check c)
{
    switch (c) {
    case VoucherSigner::Check::ok:
        return "ok";
    case VoucherSigner::Check::bad_signature:
        return "the signature is malformed or does not verify";
    case VoucherSigner::Check::wrong_signer:
        return "the signature is not the payer's for this beneficiary, chain and hub";
    case VoucherSigner::Check::not_increasing:
        return "cumulative is not above the last voucher kept";
    }
    return "?";
}

} // namespace seedbox::tron
