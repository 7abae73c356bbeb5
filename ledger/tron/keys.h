// secp256k1 keys and recoverable signatures as TRON uses them: r(32) || s(32) || v(1), v = 27 + the
// recovery id, RFC 6979 nonces, low s. A PrivateKey never prints itself: there is no accessor that
// returns its bytes except raw_secret(), used only to persist it.
// Thread-safety: the library context is created once and shared (read-only after creation).
#pragma once

#include "ledger/tron/address.h"

namespace seedbox::tron {

using Signature = std::array<std::uint8_t, 65>;

class PrivateKey {
public:
    // nullopt unless 32 bytes in [1, n-1].
    [[nodiscard]] static std::optional<PrivateKey> from_bytes(ByteView secret);
    // A fresh key from the OS CSPRNG.
    [[nodiscard]] static PrivateKey generate();

    PrivateKey(PrivateKey const&) = default;
    PrivateKey& operator=(PrivateKey const&) = default;
    ~PrivateKey();

    [[nodiscard]] Bytes public_key_uncompressed() const; // 65 bytes
    [[nodiscard]] Bytes public_key_compressed() const;   // 33 bytes
    [[nodiscard]] Address address() const;
    // Signs a 32-byte digest.
    [[nodiscard]] Signature sign(Hash32 const& digest) const;
    [[nodiscard]] Hash32 const& raw_secret() const { return secret_; }

private:
    PrivateKey() = default;
    Hash32 secret_{};
};

enum class RecoverError { ok, bad_v, high_s, invalid };

struct Recovered {
    std::optional<Address> address;
    RecoverError error = RecoverError::ok;
};

// Recovers the signer's address. Rejects v outside 27/28 (0/1 also accepted, java-tron style), a
// high s (malleable), and signatures that do not verify.
[[nodiscard]] Recovered recover(Hash32 const& digest, ByteView signature);
[[nodiscard]] char const* describe(RecoverError e);

} // namespace seedbox::tron
