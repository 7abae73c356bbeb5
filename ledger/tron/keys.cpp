#include "ledger/tron/keys.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include <stdexcept>

namespace seedbox::tron {

namespace {

secp256k1_context const* ctx()
{
    static secp256k1_context* const c = [] {
        auto* c = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
        unsigned char seed[32];
        // Side-channel blinding; signing stays correct without it, so a failure is not fatal.
        bool blinded = RAND_bytes(seed, sizeof seed) == 1 && secp256k1_context_randomize(c, seed);
        static_cast<void>(blinded);
        OPENSSL_cleanse(seed, sizeof seed);
        return c;
    }();
    return c;
}

Bytes serialize(secp256k1_pubkey const& pk, bool compressed)
{
    Bytes out(compressed ? 33 : 65);
    std::size_t len = out.size();
    secp256k1_ec_pubkey_serialize(ctx(), out.data(), &len, &pk,
                                  compressed ? SECP256K1_EC_COMPRESSED : SECP256K1_EC_UNCOMPRESSED);
    return out;
}

} // namespace

PrivateKey::~PrivateKey()
{
    OPENSSL_cleanse(secret_.data(), secret_.size());
}

std::optional<PrivateKey> PrivateKey::from_bytes(ByteView secret)
{
    if (secret.size() != 32 || !secp256k1_ec_seckey_verify(ctx(), secret.data()))
        return std::nullopt;
    PrivateKey k;
    std::copy(secret.begin(), secret.end(), k.secret_.begin());
    return k;
}

PrivateKey PrivateKey::generate()
{
    for (;;) {
        Hash32 raw;
        if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1)
            throw std::runtime_error("no randomness for a key");
        auto k = from_bytes(raw);
        OPENSSL_cleanse(raw.data(), raw.size());
        if (k)
            return *k;
    }
}

Bytes PrivateKey::public_key_uncompressed() const
{
    secp256k1_pubkey pk;
    if (!secp256k1_ec_pubkey_create(ctx(), &pk, secret_.data()))
        throw std::logic_error("invalid private key");
    return serialize(pk, false);
}

Bytes PrivateKey::public_key_compressed() const
{
    secp256k1_pubkey pk;
    if (!secp256k1_ec_pubkey_create(ctx(), &pk, secret_.data()))
        throw std::logic_error("invalid private key");
    return serialize(pk, true);
}

Address PrivateKey::address() const
{
    return *Address::from_public_key(public_key_uncompressed());
}

Signature PrivateKey::sign(Hash32 const& digest) const
{
    secp256k1_ecdsa_recoverable_signature sig;
    if (!secp256k1_ecdsa_sign_recoverable(ctx(), &sig, digest.data(), secret_.data(), nullptr,
                                          nullptr))
        throw std::logic_error("signing failed");
    Signature out;
    int recid = 0;
    secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx(), out.data(), &recid, &sig);
    out[64] = static_cast<std::uint8_t>(27 + recid);
    return out;
}

Recovered recover(Hash32 const& digest, ByteView signature)
{
    if (signature.size() != 65)
        return {std::nullopt, RecoverError::invalid};
    int v = signature[64];
    int recid = v >= 27 ? v - 27 : v;
    if (recid < 0 || recid > 1)
        return {std::nullopt, RecoverError::bad_v};
    secp256k1_ecdsa_recoverable_signature rsig;
    if (!secp256k1_ecdsa_recoverable_signature_parse_compact(ctx(), &rsig, signature.data(), recid))
        return {std::nullopt, RecoverError::invalid};
    secp256k1_ecdsa_signature plain;
    secp256k1_ecdsa_recoverable_signature_convert(ctx(), &plain, &rsig);
    if (secp256k1_ecdsa_signature_normalize(ctx(), nullptr, &plain))
        return {std::nullopt, RecoverError::high_s};
    secp256k1_pubkey pk;
    if (!secp256k1_ecdsa_recover(ctx(), &pk, &rsig, digest.data()))
        return {std::nullopt, RecoverError::invalid};
    return {Address::from_public_key(serialize(pk, false)), RecoverError::ok};
}

char const* describe(RecoverError e)
{
    switch (e) {
    case RecoverError::ok:
        return "ok";
    case RecoverError::bad_v:
        return "signature v must be 27 or 28";
    case RecoverError::high_s:
        return "signature s is not in the lower half of the curve order (malleable)";
    case RecoverError::invalid:
        return "signature does not verify";
    }
    return "?";
}

} // namespace seedbox::tron
