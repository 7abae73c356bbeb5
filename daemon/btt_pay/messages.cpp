// The wire side of PeerPlugin: the extended handshake, the hello that proves an address,
// decoding incoming messages to their handlers, and encoding and sending messages and rejects.
#include "daemon/btt_pay/plugin_internal.h"

#include "ledger/tron/message.h"

#include <libtorrent/bdecode.hpp>
#include <libtorrent/bencode.hpp>
#include <libtorrent/entry.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>

namespace seedbox::daemon {

tron::Bytes hello_payload(tron::ByteView peer_nonce, tron::Address const& signer)
{
    constexpr std::string_view tag = "btt_pay/1";
    auto a = signer.bytes();
    tron::Bytes out(tag.size() + peer_nonce.size() + a.size());
    auto it = std::copy(tag.begin(), tag.end(), out.begin());
    it = std::copy(peer_nonce.begin(), peer_nonce.end(), it);
    std::copy(a.begin(), a.end(), it);
    return out;
}

namespace detail {

std::string as_string(tron::ByteView b)
{
    return {b.begin(), b.end()};
}

std::optional<tron::Uint256> parse_bid(lt::string_view text)
{
    static tron::Uint256 const kMaxBid =
        tron::parse_uint256("1000000000000000000000000000000000000")
            .value(); // 10^36 = 10^18 BTT per GiB
    if (text.empty() || text.size() > 40)
        return std::nullopt;
    auto v = tron::parse_uint256(std::string_view(text.data(), text.size()));
    if (!v || *v > kMaxBid)
        return std::nullopt;
    return v;
}

void PeerPlugin::add_handshake(lt::entry& h)
{
    if (!id_)
        return;
    h["m"]["btt_pay"] = kBttPayMessageId;
    lt::entry& b = h["btt_pay"];
    b["v"] = 1;
    b["addr"] = as_string(id_->address.bytes());
    b["nonce"] = as_string(nonce_);
    b["chain"] = id_->chain_id;
    b["hub"] = as_string(id_->hub.bytes());
    if (pay_->terms().accept)
        b["price"] = id_->price_per_gib;
    b["pays"] = pay_->terms().pay ? 1 : 0;
    my_bid_ = pay_->terms().bid;
    if (pay_->terms().pay && my_bid_ > 0)
        b["bid"] = tron::to_decimal(my_bid_);
}

bool PeerPlugin::on_extension_handshake(lt::bdecode_node const& h)
{
    if (!id_)
        return true;
    auto m = h.dict_find_dict("m");
    auto remote = m ? m.dict_find_int_value("btt_pay", -1) : -1;
    auto b = h.dict_find_dict("btt_pay");
    if (!b || remote <= 0 || remote > 255)
        return true; // a peer without our extension: anonymous, still counted
    remote_id_ = static_cast<int>(remote);
    auto addr = b.dict_find_string_value("addr");
    auto nonce = b.dict_find_string_value("nonce");
    auto hub = b.dict_find_string_value("hub");
    if (b.dict_find_int_value("v", 0) != 1 || addr.size() != 21 || nonce.size() != 16 ||
        static_cast<std::uint8_t>(addr[0]) != tron::Address::kPrefix) {
        reject("malformed handshake");
        return true;
    }
    std::array<std::uint8_t, 20> evm;
    std::copy(addr.begin() + 1, addr.end(), evm.begin());
    claimed_ = tron::Address(evm);
    std::copy(nonce.begin(), nonce.end(), their_nonce_.begin());
    their_pays_ = b.dict_find_int_value("pays", 0) == 1;
    if (auto price = b.dict_find_string_value("price"); !price.empty())
        their_price_ = parse_bid(price);
    same_terms_ =
        b.dict_find_int_value("chain", -1) == id_->chain_id && hub == as_string(id_->hub.bytes());
    if (their_pays_ && pay_->terms().accept) {
        // No bid: a peer from before bids pays our price.
        auto bid = b.dict_find_string_value("bid");
        consider_bid(bid.empty() ? std::optional(pay_->terms().price) : parse_bid(bid));
    }
    // Another chain or hub means no payments, but the peer may still prove its address.
    send_hello();
    return true;
}

bool PeerPlugin::on_extended(int length, int msg, lt::span<char const> body)
{
    if (msg != kBttPayMessageId || !id_)
        return false;
    if (static_cast<int>(body.size()) < length)
        return true; // a fragment; libtorrent calls again with the whole message
    if (static_cast<std::size_t>(length) > kMaxMessage) {
        reject("message over 1 KiB");
        return true;
    }
    lt::error_code ec;
    auto node = lt::bdecode(body, ec, nullptr, 4, 32);
    if (ec || node.type() != lt::bdecode_node::dict_t) {
        reject("malformed message");
        return true;
    }
    auto t = node.dict_find_string_value("t");
    if (t == "hello")
        on_hello(node.dict_find_string_value("sig"));
    else if (t == "voucher")
        on_voucher(node.dict_find_string_value("cumulative"), node.dict_find_string_value("sig"));
    else if (t == "ack")
        on_ack(node.dict_find_string_value("cumulative"));
    else if (t == "owed")
        on_owed(node.dict_find_string_value("cumulative"));
    else if (t == "bid")
        on_bid(node.dict_find_string_value("bid"));
    else if (t == "reject")
        on_reject_message(node.dict_find_string_value("reason"),
                          node.dict_find_string_value("price"));
    else
        reject("unknown message");
    return true;
}

void PeerPlugin::send_hello()
{
    auto sig = tron::sign_message(id_->key, hello_payload(their_nonce_, id_->address));
    lt::entry e;
    e["t"] = "hello";
    e["sig"] = as_string(sig);
    send(e);
}

void PeerPlugin::on_hello(lt::string_view sig)
{
    if (!claimed_ || authenticated_) {
        reject("hello out of order");
        return;
    }
    auto r = tron::recover_message(hello_payload(nonce_, *claimed_),
                                   {reinterpret_cast<std::uint8_t const*>(sig.data()), sig.size()});
    if (!r.address || *r.address != *claimed_) {
        reject("hello does not prove the handshake address");
        return;
    }
    // The whole connection was with the owner of this address: bytes not yet pushed go to it
    // (pushes happen once a second, hellos arrive within milliseconds of the handshake).
    authenticated_ = true;
    if (their_pays_ && pay_->terms().accept)
        pay_->join(delta_.ip, *claimed_);
    delta_.address = claimed_->base58();
    delta_.price = upload_rate();
    pay_->uploaded(*claimed_, up_total_, upload_rate());
    if (payer_role()) {
        pay_->downloaded(*claimed_, down_total_, *paying_rate());
        start_paying();
    }
    spdlog::debug("btt_pay: {} proved address {}", delta_.ip, delta_.address);
}

void PeerPlugin::reject(std::string const& reason, std::optional<tron::Uint256> price)
{
    ++rejected_;
    spdlog::debug("btt_pay: rejected from {}: {}", delta_.ip, reason);
    if (rejected_ > 16)
        return; // at most 16 answers per 10 s: a misbehaving peer cannot make us echo forever
    lt::entry e;
    e["t"] = "reject";
    e["reason"] = reason;
    if (price)
        e["price"] = tron::to_decimal(*price);
    send(e);
}

void PeerPlugin::send(lt::entry const& e)
{
    if (remote_id_ <= 0 || disconnected_ || !pc_.native_handle())
        return;
    std::string body;
    lt::bencode(std::back_inserter(body), e);
    auto len = static_cast<std::uint32_t>(body.size() + 2);
    std::string frame = {static_cast<char>(len >> 24),
                         static_cast<char>(len >> 16),
                         static_cast<char>(len >> 8),
                         static_cast<char>(len),
                         char(20),
                         static_cast<char>(remote_id_)};
    frame += body;
    pc_.send_buffer(frame.data(), static_cast<int>(frame.size()));
}

} // namespace detail
} // namespace seedbox::daemon
