#include "ledger/tron/message.h"

namespace seedbox::tron {

namespace {
constexpr std::string_view kPrefix = "\x19TRON Signed Message:\n";

Hash32 prefixed(std::string_view length, ByteView message)
{
    Bytes pre(kPrefix.begin(), kPrefix.end());
    pre.insert(pre.end(), length.begin(), length.end());
    pre.insert(pre.end(), message.begin(), message.end());
    return keccak256(pre);
}
} // namespace

Hash32 message_digest(ByteView message)
{
    return prefixed(std::to_string(message.size()), message);
}

Hash32 legacy_message_digest(ByteView message)
{
    return prefixed("32", message);
}

Signature sign_message(PrivateKey const& key, ByteView message)
{
    return key.sign(message_digest(message));
}

Recovered recover_message(ByteView message, ByteView signature)
{
    return recover(message_digest(message), signature);
}

} // namespace seedbox::tron
