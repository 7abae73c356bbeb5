// Base64 (RFC 4648 §4, standard alphabet) over OpenSSL's EVP_EncodeBlock / EVP_DecodeBlock, for
// the daemon (torrent.add metainfo, torrent.create's answer) and seedboxctl alike. No other
// dependency, so seedboxctl builds it without the daemon's libraries.
#pragma once

#include <string>

namespace seedbox::rpc {

// Strict: length a multiple of 4, '=' only as the last one or two characters, no whitespace,
// unused bits zero (one encoding per byte string). False, and `out` unspecified, otherwise.
[[nodiscard]] bool base64_decode(std::string const& in, std::string& out);
[[nodiscard]] std::string base64_encode(std::string const& in);

} // namespace seedbox::rpc
