#include "rpc/base64.h"

#include <array>
#include <openssl/evp.h>

namespace seedbox::rpc {

bool base64_decode(std::string const& in, std::string& out)
{
    static constexpr auto kValue = [] {
        std::array<signed char, 256> t{};
        t.fill(-1);
        char const* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for (int i = 0; i < 64; ++i)
            t[static_cast<unsigned char>(alphabet[i])] = static_cast<signed char>(i);
        return t;
    }();
    if (in.empty() || in.size() % 4 != 0)
        return false;
    std::size_t pad = 0;
    if (in.back() == '=')
        pad = in[in.size() - 2] == '=' ? 2 : 1;
    auto const data = in.size() - pad;
    for (std::size_t i = 0; i < data; ++i)
        if (kValue[static_cast<unsigned char>(in[i])] < 0)
            return false; // also '=' before the end
    // The bits past the last byte must be zero (one encoding per byte string).
    auto const last = kValue[static_cast<unsigned char>(in[data - 1])];
    if ((pad == 1 && (last & 0x3)) || (pad == 2 && (last & 0xf)))
        return false;
    out.resize(in.size() / 4 * 3);
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<unsigned char const*>(in.data()),
                            static_cast<int>(in.size()));
    if (n < 0)
        return false;
    out.resize(static_cast<std::size_t>(n) - pad);
    return true;
}

std::string base64_encode(std::string const& in)
{
    std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<unsigned char const*>(in.data()),
                            static_cast<int>(in.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

} // namespace seedbox::rpc
