// Payment vouchers (design.md §6): TIP-712 typed data
//   Claim(address payer, address beneficiary, uint256 cumulative)
// in the domain {name: "SeedboxClaimHub", version: "1", chainId, verifyingContract: hub}, signed by
// the payer (v = 27/28). Cumulative and monotonic: a newer voucher supersedes every older one.
#pragma once

#include "ledger/tron/keys.h"
#include "ledger/tron/uint256.h"

namespace seedbox::tron {

struct VoucherDomain {
    std::int64_t chain_id = 728126428;
    Address hub;
};

class VoucherSigner {
public:
    explicit VoucherSigner(VoucherDomain domain); // precomputes the domain separator

    [[nodiscard]] Hash32 digest(Address const& payer, Address const& beneficiary,
                                Uint256 const& cumulative) const;
    [[nodiscard]] Signature sign(PrivateKey const& payer, Address const& beneficiary,
                                 Uint256 const& cumulative) const;

    enum class Check { ok, bad_signature, wrong_signer, not_increasing };
    // The signature must recover to `payer` (so a voucher for another beneficiary, chain or hub
    // fails as wrong_signer) and `cumulative` must exceed `last_kept`.
    [[nodiscard]] Check verify(Address const& payer, Address const& beneficiary,
                               Uint256 const& cumulative, ByteView signature,
                               Uint256 const& last_kept) const;

    [[nodiscard]] Hash32 const& domain_separator() const { return domain_separator_; }

private:
    Hash32 domain_separator_;
};

[[nodiscard]] char const* describe(VoucherSigner::Check c);

} // namespace seedbox::tron
