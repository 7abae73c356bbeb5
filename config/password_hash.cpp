#include "config/password_hash.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cctype>
#include <charconv>
#include <cstdint>
#include <stdexcept>
#include <vector>

namespace seedbox::config {

namespace {

constexpr std::string_view kPrefix = "$scrypt$";
constexpr std::uint64_t kMaxMemory = 256ULL << 20;

std::string to_base64(std::string_view raw)
{
    std::string out(4 * ((raw.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<unsigned char const*>(raw.data()),
                            static_cast<int>(raw.size()));
    out.resize(static_cast<std::size_t>(n));
    while (!out.empty() && out.back() == '=')
        out.pop_back();
    return out;
}

// Base64 without padding (PHC); empty on anything else.
std::optional<std::string> from_base64(std::string_view text)
{
    if (text.empty() || text.size() > 128 || text.size() % 4 == 1)
        return std::nullopt;
    for (char c : text)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/'))
            return std::nullopt;
    std::string padded(text);
    std::size_t pad = (4 - padded.size() % 4) % 4;
    padded.append(pad, '=');
    std::string out(padded.size() / 4 * 3, '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<unsigned char const*>(padded.data()),
                            static_cast<int>(padded.size()));
    if (n < 0)
        return std::nullopt;
    out.resize(static_cast<std::size_t>(n) - pad);
    return out;
}

// "ln=15,r=8,p=1" in that order, each a decimal within its range.
bool parse_params(std::string_view text, PasswordHash& h)
{
    std::pair<std::string_view, int*> const fields[] = {
        {"ln=", &h.log2_n}, {"r=", &h.r}, {"p=", &h.p}};
    for (std::size_t i = 0; i < 3; ++i) {
        auto const [name, out] = fields[i];
        if (text.substr(0, name.size()) != name)
            return false;
        text.remove_prefix(name.size());
        auto const end = text.find(',');
        auto const digits = text.substr(0, end);
        auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), *out);
        if (ec != std::errc{} || ptr != digits.data() + digits.size() || digits.size() > 2)
            return false;
        if ((i < 2) != (end != std::string_view::npos))
            return false;
        text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    }
    // scrypt itself needs N < 2^(16 r) (RFC 7914; OpenSSL refuses the rest).
    return h.log2_n >= 10 && h.log2_n <= 20 && h.r >= 1 && h.r <= 16 && h.p >= 1 && h.p <= 4 &&
           h.log2_n < 16 * h.r &&
           128ULL * static_cast<unsigned>(h.r) * (1ULL << h.log2_n) <= kMaxMemory;
}

std::string derive(PasswordHash const& h, std::string_view password, std::size_t key_bytes)
{
    std::string key(key_bytes, '\0');
    std::uint64_t const n = 1ULL << h.log2_n;
    std::uint64_t const memory = 128ULL * static_cast<unsigned>(h.r) * n * 2;
    if (EVP_PBE_scrypt(password.data(), password.size(),
                       reinterpret_cast<unsigned char const*>(h.salt.data()), h.salt.size(), n,
                       static_cast<std::uint64_t>(h.r), static_cast<std::uint64_t>(h.p), memory,
                       reinterpret_cast<unsigned char*>(key.data()), key.size()) != 1)
        throw std::runtime_error("scrypt failed (out of memory?)");
    return key;
}

} // namespace

std::optional<PasswordHash> parse_password_hash(std::string_view text, std::string& err)
{
    err = "must be a password hash made by `seedboxd --hash-password` "
          "($scrypt$ln=15,r=8,p=1$SALT$KEY; the password itself is never stored)";
    if (text.substr(0, kPrefix.size()) != kPrefix)
        return std::nullopt;
    text.remove_prefix(kPrefix.size());
    auto const params_end = text.find('$');
    auto const salt_end = text.find('$', params_end == std::string_view::npos ? 0 : params_end + 1);
    if (params_end == std::string_view::npos || salt_end == std::string_view::npos)
        return std::nullopt;
    PasswordHash h;
    if (!parse_params(text.substr(0, params_end), h)) {
        err = "the scrypt cost must be ln 10..20, r 1..16, p 1..4, ln < 16 r, at most 256 MiB "
              "(as $scrypt$ln=15,r=8,p=1$SALT$KEY)";
        return std::nullopt;
    }
    auto salt = from_base64(text.substr(params_end + 1, salt_end - params_end - 1));
    auto key = from_base64(text.substr(salt_end + 1));
    if (!salt || !key || salt->size() < 8 || salt->size() > 64 || key->size() < 16 ||
        key->size() > 64) {
        err = "the salt (8 to 64 bytes) and key (16 to 64 bytes) must be base64 without padding";
        return std::nullopt;
    }
    h.salt = std::move(*salt);
    h.key = std::move(*key);
    err.clear();
    return h;
}

std::string hash_password(std::string_view password)
{
    PasswordHash h;
    h.salt.resize(16);
    if (RAND_bytes(reinterpret_cast<unsigned char*>(h.salt.data()),
                   static_cast<int>(h.salt.size())) != 1)
        throw std::runtime_error("no randomness for the password's salt");
    auto const key = derive(h, password, 32);
    return std::string(kPrefix) + "ln=" + std::to_string(h.log2_n) + ",r=" + std::to_string(h.r) +
           ",p=" + std::to_string(h.p) + "$" + to_base64(h.salt) + "$" + to_base64(key);
}

bool password_matches(PasswordHash const& hash, std::string_view password)
{
    auto const key = derive(hash, password, hash.key.size());
    return CRYPTO_memcmp(key.data(), hash.key.data(), key.size()) == 0;
}

} // namespace seedbox::config
