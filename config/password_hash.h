// transmission.password: a password kept only as its scrypt hash, in the PHC string form
// "$scrypt$ln=15,r=8,p=1$<salt>$<key>" (salt and key in base64 without padding, as passlib and
// other PHC tools write them). `seedboxd --hash-password` makes one; the daemon checks a password
// against it. scrypt rather than a plain digest: a stolen config file must not give the password
// away to a cheap guess.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace seedbox::config {

struct PasswordHash {
    int log2_n = 15; // CPU/memory cost: N = 2^log2_n
    int r = 8;       // block size
    int p = 1;       // parallelism
    std::string salt;
    std::string key; // the derived key the password must reproduce
};

// The declared ranges of a hash the daemon accepts (a config file cannot make one check cost
// minutes or gigabytes): log2_n 10..20, r 1..16, p 1..4, log2_n < 16 r (scrypt's own rule),
// 128 * r * N at most 256 MiB, salt 8..64 bytes, key 16..64 bytes.
[[nodiscard]] std::optional<PasswordHash> parse_password_hash(std::string_view text,
                                                              std::string& err);

// A fresh hash of `password` (16 random bytes of salt, 32 of key, the default cost: about 32 MiB
// and 0.1-0.2 s on a small server). Throws when the system has no randomness.
[[nodiscard]] std::string hash_password(std::string_view password);

// Whether `password` reproduces the hash's key: runs scrypt (slow on purpose, never on the io
// thread); the comparison is constant-time.
[[nodiscard]] bool password_matches(PasswordHash const& hash, std::string_view password);

} // namespace seedbox::config
