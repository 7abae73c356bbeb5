// wallet.*: the node's TRON identity.
#include "rpc/method.h"

namespace seedbox::rpc {

void add_wallet_methods(MethodTable& t)
{
    t.push_back(
        {"wallet.address",
         "The node's TRON address (Base58Check and hex).",
         false,
         {},
         {{"type", "object"},
          {"properties", {{"address", {{"type", "string"}}}, {"hex", {{"type", "string"}}}}}},
         [](Call& c) {
             auto const& w = c.ctx().wallet;
             if (!w)
                 throw RpcError(kNoWallet, "no_wallet",
                                "this node has no TRON key: provide tron.key_file or set "
                                "tron.generate_key=true");
             return json{{"address", w->base58()}, {"hex", w->hex()}};
         }});
}

} // namespace seedbox::rpc
