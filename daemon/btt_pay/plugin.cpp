#include "daemon/btt_pay/plugin.h"

#include "daemon/btt_pay/scheduler.h"
#include "ledger/tron/message.h"

#include <libtorrent/bdecode.hpp>
#include <libtorrent/bencode.hpp>
#include <libtorrent/entry.hpp>
#include <libtorrent/peer_connection_handle.hpp>
#include <libtorrent/peer_info.hpp>
#include <libtorrent/torrent_handle.hpp>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <optional>
#include <sstream>
#include <utility>

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

namespace {

std::string as_string(tron::ByteView b)
{
    return {b.begin(), b.end()};
}

// A bid as the wire carries it: a decimal string of base units per GiB, at most kMaxBid (so
// bytes x bid stays far inside 256 bits). Anything else is not a bid.
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

class PeerPlugin final : public lt::peer_plugin, public std::enable_shared_from_this<PeerPlugin> {
public:
    PeerPlugin(lt::peer_connection_handle pc, std::string torrent, std::shared_ptr<Accounting> sink,
               std::shared_ptr<Payments> payments)
        : pc_(std::move(pc)), sink_(std::move(sink)), pay_(std::move(payments))
    {
        delta_.torrent = std::move(torrent);
        if (pc_.native_handle()) { // none when driven without a connection (tests/fuzz)
            delta_.ip = pc_.remote().address().to_string();
            endpoint_ = endpoint_key(pc_.remote());
        }
        if (pay_)
            id_ = &pay_->identity();
        if (RAND_bytes(nonce_.data(), static_cast<int>(nonce_.size())) != 1)
            id_ = nullptr; // without a fresh nonce a hello could be replayed: stay anonymous
    }

    std::string const& ip() const { return delta_.ip; }

    // Once a second (libtorrent's plugin tick), before the scheduler's run (Schedule below).
    ScheduleEntry& schedule_entry()
    {
        auto& e = sched_;
        e.sent = up_total_ - sched_up_;
        sched_up_ = up_total_;
        bool const live = pc_.native_handle() && !disconnected_;
        e.wants = live && pc_.is_peer_interested() && !refusing_;
        e.weight = 0;
        e.waiting = false;
        if (live && pay_ && provider_role() && !pay_->over_credit_line(*claimed_, delta_.ip)) {
            e.weight = accepted_bid_->convert_to<double>();
            if (e.wants && !e.held) {
                lt::peer_info info;
                pc_.get_peer_info(info);
                e.waiting = (info.write_state & lt::peer_info::bw_limit) != 0;
            }
        }
        return e;
    }

    void apply_schedule()
    {
        if (!pc_.native_handle() || disconnected_)
            return;
        if (sched_.held != held_by_us_)
            spdlog::debug(
                "btt_pay: {} {} (weight {:.3g}, deficit {:.0f}{})", delta_.ip,
                sched_.held ? "held" : "released", sched_.weight, sched_.deficit,
                !sched_.held && sched_.rest > 0
                    ? fmt::format("; the room went unused, not held for {} s", sched_.rest)
                    : "");
        if (sched_.held) {
            if (!pc_.is_choked())
                pc_.choke_this_peer();
        } else if (held_by_us_ && !refusing_) {
            pc_.maybe_unchoke_this_peer();
        }
        held_by_us_ = sched_.held;
    }

    ~PeerPlugin() override
    {
        if (pay_ && !endpoint_.empty())
            pay_->forget_peer_payment(delta_.torrent, endpoint_);
        stop_paying();
    }

    lt::string_view type() const override { return "btt_pay"; }

    void sent_payload(int bytes) override
    {
        delta_.up += bytes;
        up_total_ += bytes;
        if (authenticated_)
            pay_->uploaded(*claimed_, bytes, upload_rate());
        if (pay_ && !provider_role())
            pay_->uploaded_free(delta_.torrent, delta_.ip, bytes);
        if (pay_)
            pay_->count_upload(class_, bytes);
    }

    bool on_piece(lt::peer_request const& piece, lt::span<char const>) override
    {
        delta_.down += piece.length;
        down_total_ += piece.length;
        if (payer_role())
            pay_->downloaded(*claimed_, piece.length, *paying_rate());
        return false; // let libtorrent handle the block
    }

    // With payments.require, a peer over its credit line is not served: checked on every request,
    // so a connection that starts over the line (a reconnect) gets nothing, and choked on the tick.
    bool on_request(lt::peer_request const&) override
    {
        if (!refusing_ && pay_ && pay_->terms().accept && pay_->terms().require)
            refusing_ = over_credit_line();
        return refusing_;
    }

    void add_handshake(lt::entry& h) override
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

    // Must accept every peer: returning false detaches the plugin and accounting would stop.
    bool on_extension_handshake(lt::bdecode_node const& h) override
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
        same_terms_ = b.dict_find_int_value("chain", -1) == id_->chain_id &&
                      hub == as_string(id_->hub.bytes());
        if (their_pays_ && pay_->terms().accept) {
            // No bid: a peer from before bids pays our price.
            auto bid = b.dict_find_string_value("bid");
            consider_bid(bid.empty() ? std::optional(pay_->terms().price) : parse_bid(bid));
        }
        // Another chain or hub means no payments, but the peer may still prove its address.
        send_hello();
        return true;
    }

    bool on_extended(int length, int msg, lt::span<char const> body) override
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
            on_voucher(node.dict_find_string_value("cumulative"),
                       node.dict_find_string_value("sig"));
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

    // A block put in the send buffer (sent_piece) is counted when libtorrent reports its send
    // (sent_payload). libtorrent drops that report once the connection is closing, so a connection
    // closed by choice (both sides seeding, timeouts) first waits for every queued block to be
    // reported, 10 s at most (a peer that stops reading). A peer that hangs up itself can still
    // leave its last sends uncounted (README, ledger).
    void sent_piece(lt::peer_request const& r) override { queued_ += r.length; }

    bool unreported_sends(std::chrono::steady_clock::time_point now)
    {
        if (queued_ <= up_total_) {
            unreported_since_.reset();
            return false;
        }
        if (!unreported_since_)
            unreported_since_ = now;
        return now - *unreported_since_ <= std::chrono::seconds(10);
    }

    void tick() override
    {
        push();
        if (close_when_reported_ && !disconnected_ && pc_.native_handle() &&
            !unreported_sends(std::chrono::steady_clock::now())) {
            auto ec = *std::exchange(close_when_reported_, std::nullopt);
            if (can_disconnect(ec))
                pc_.disconnect(ec, lt::operation_t::bittorrent);
        }
        if (!id_)
            return;
        if (payer_role())
            issue(holding_.has_value()); // a finished connection pays its last bytes at once
        enforce_credit_line();
        publish_payment();
        if (++ticks_ % 10 == 0)
            rejected_ = 0;
        if (provider_role() && ticks_ % 5 == 0) {
            auto owed = pay_->owed(*claimed_);
            if (owed != owed_sent_) {
                owed_sent_ = owed;
                lt::entry e;
                e["t"] = "owed";
                e["cumulative"] = tron::to_decimal(owed);
                send(e);
            }
        }
    }

    // Both sides finished: libtorrent drops the connection. A payer first pays for its last
    // bytes and lets go when the provider acknowledges; a provider waits for that voucher. Either
    // side holds for 10 s at most.
    bool can_disconnect(lt::error_code const& ec) override
    {
        if (disconnected_)
            return true;
        auto now = std::chrono::steady_clock::now();
        if (unreported_sends(now)) {
            close_when_reported_ = ec;
            return false;
        }
        if (!(payer_role() || provider_role()))
            return true;
        if (!holding_) {
            bool wait = (payer_role() && !pay_->settled(*claimed_)) ||
                        (provider_role() && pay_->owed(*claimed_) > last_kept_);
            if (!wait)
                return true;
            holding_ = now;
            vouchers_at_hold_ = vouchers_;
            if (payer_role())
                issue(true);
            return false;
        }
        if (now - *holding_ > std::chrono::seconds(10))
            return true;
        if (payer_role())
            return pay_->settled(*claimed_);
        // A provider lets the payer close once its voucher is acknowledged, giving the ack a
        // second to leave; a payer that never closes is dropped after the 10 s.
        return vouchers_ > vouchers_at_hold_ && now - last_ack_ > std::chrono::seconds(1);
    }

    void on_disconnect(lt::error_code const&) override
    {
        disconnected_ = true;
        if (pay_ && !endpoint_.empty())
            pay_->forget_peer_payment(delta_.torrent, endpoint_);
        stop_paying();
        push();
    }

private:
    // We upload to them, they offered to pay and we accepted their bid.
    bool provider_role() const
    {
        return authenticated_ && same_terms_ && their_pays_ && pay_->terms().accept &&
               accepted_bid_;
    }
    // We download from them, they sell and we pay.
    bool payer_role() const
    {
        return authenticated_ && same_terms_ && pay_->terms().pay && paying_rate();
    }
    // Per GiB we pay them: our bid when it meets their price (it never exceeds
    // payments.max_price_per_gib), their price when we made no bid and it is within that cap.
    std::optional<tron::Uint256> paying_rate() const
    {
        if (!their_price_)
            return std::nullopt;
        if (my_bid_ > 0)
            return my_bid_ >= *their_price_ ? std::optional(my_bid_) : std::nullopt;
        return *their_price_ <= pay_->terms().max_price ? their_price_ : std::nullopt;
    }
    // Per GiB an authenticated peer owes for what we upload: its accepted bid, else our price.
    tron::Uint256 upload_rate() const
    {
        return provider_role() ? *accepted_bid_ : pay_->terms().price;
    }

    // Provider: a bid from the handshake (`raise` false) or a `bid` message. At or above our
    // price it is what the peer pays from now on; below, the peer is told our price and, until it
    // bids enough, served as a free peer. A bid only rises.
    void consider_bid(std::optional<tron::Uint256> bid, bool raise = false)
    {
        if (!bid) {
            reject("malformed bid");
            return;
        }
        if (raise && accepted_bid_ && *bid < *accepted_bid_) {
            reject("a bid can only rise");
            return;
        }
        if (*bid < pay_->terms().price) {
            reject("bid below price", pay_->terms().price);
            return;
        }
        push(); // bytes so far were priced at the old rate
        accepted_bid_ = *bid;
        if (authenticated_)
            delta_.price = upload_rate();
        spdlog::debug("btt_pay: {} bids {} per GiB: accepted", delta_.ip, tron::to_decimal(*bid));
    }

    void on_bid(lt::string_view text)
    {
        if (!their_pays_ || !pay_->terms().accept) {
            reject("bids are not accepted on this connection");
            return;
        }
        consider_bid(parse_bid(text), true);
    }

    // Payer: a provider that refuses our bid names its price; within payments.max_price_per_gib
    // we raise our bid to it, else we stay a free peer to it.
    void on_reject_message(lt::string_view reason, lt::string_view price_text)
    {
        spdlog::debug("btt_pay: {} rejected a message: {}", delta_.ip,
                      std::string(reason).substr(0, 200));
        auto price = parse_bid(price_text);
        if (reason != "bid below price" || !price || !pay_->terms().pay || my_bid_ == 0 ||
            *price <= my_bid_ || *price > pay_->terms().max_price)
            return;
        if (auto cheaper = pay_->cheapest_paid(delta_.torrent); cheaper && *cheaper < *price) {
            spdlog::debug("btt_pay: not raising our bid to {} to its price {}: another provider "
                          "of this torrent serves us at {} per GiB",
                          delta_.ip, tron::to_decimal(*price), tron::to_decimal(*cheaper));
            return;
        }
        my_bid_ = *price;
        lt::entry e;
        e["t"] = "bid";
        e["bid"] = tron::to_decimal(my_bid_);
        send(e);
        spdlog::debug("btt_pay: raised our bid to {} to {} per GiB", delta_.ip,
                      tron::to_decimal(my_bid_));
        if (payer_role())
            start_paying();
    }

    // Registers this connection among those we pay on (Payments::cheapest_paid), once.
    void start_paying()
    {
        if (paying_at_ || disconnected_)
            return;
        paying_at_ = paying_rate();
        if (paying_at_)
            pay_->start_paying(delta_.torrent, *paying_at_);
    }
    void stop_paying()
    {
        if (pay_ && paying_at_)
            pay_->stop_paying(delta_.torrent, *paying_at_);
        paying_at_.reset();
    }

    void issue(bool force)
    {
        std::weak_ptr<PeerPlugin> weak = shared_from_this();
        pay_->maybe_issue(*claimed_, delta_.torrent, force,
                          [weak](tron::Uint256 const& cumulative, tron::Signature const& sig) {
                              if (auto self = weak.lock()) {
                                  lt::entry e;
                                  e["t"] = "voucher";
                                  e["cumulative"] = tron::to_decimal(cumulative);
                                  e["sig"] = as_string(sig);
                                  self->send(e);
                              }
                          });
    }

    // The counterparty's line, not the connection's: a payer (proven address, offers to pay)
    // owes per address, and the payers of one IP together (Payments::join); anyone else, including
    // a proven address that does not pay (addresses cost nothing to make), per (torrent, IP) across
    // its connections within payments.credit_window.
    bool over_credit_line() const
    {
        return provider_role() ? pay_->over_credit_line(*claimed_, delta_.ip)
                               : pay_->over_credit_line(delta_.torrent, delta_.ip);
    }

    // torrent.peers' view of this connection.
    void publish_payment()
    {
        if (endpoint_.empty() || disconnected_)
            return;
        Payments::PeerPayment v;
        class_ = over_credit_line() ? Payments::PayClass::over_credit_line
                 : provider_role()  ? Payments::PayClass::paid
                                    : Payments::PayClass::free;
        v.state = Payments::kClassNames[static_cast<std::size_t>(class_)];
        v.unpaid = provider_role() ? pay_->unpaid(*claimed_, delta_.ip)
                                   : pay_->unpaid(delta_.torrent, delta_.ip);
        if (provider_role())
            v.bid = accepted_bid_;
        pay_->set_peer_payment(delta_.torrent, endpoint_, std::move(v));
    }

    void enforce_credit_line()
    {
        if (!pay_->terms().accept)
            return;
        refusing_ = over_credit_line() && pay_->terms().require;
        if (refusing_ && pc_.native_handle() && !disconnected_)
            pc_.choke_this_peer();
    }

    void on_voucher(lt::string_view cumulative, lt::string_view sig)
    {
        if (!authenticated_) {
            reject("voucher before a verified hello");
            return;
        }
        if (!provider_role()) {
            reject("vouchers are not accepted on this connection");
            return;
        }
        std::weak_ptr<PeerPlugin> weak = shared_from_this();
        pay_->receive(*claimed_, std::string_view(cumulative.data(), cumulative.size()),
                      {reinterpret_cast<std::uint8_t const*>(sig.data()), sig.size()},
                      delta_.torrent, *accepted_bid_,
                      [weak](std::string const& reason, tron::Uint256 const& kept) {
                          auto self = weak.lock();
                          if (!self)
                              return;
                          if (!reason.empty()) {
                              self->reject(reason);
                              return;
                          }
                          lt::entry e;
                          e["t"] = "ack";
                          e["cumulative"] = tron::to_decimal(kept);
                          self->send(e);
                          ++self->vouchers_;
                          self->last_ack_ = std::chrono::steady_clock::now();
                          self->last_kept_ = kept;
                          self->on_paid();
                      });
    }

    void on_paid()
    {
        if (pay_->over_credit_line(*claimed_, delta_.ip) || disconnected_)
            return;
        refusing_ = false;
        if (pc_.native_handle() && !sched_.held)
            pc_.maybe_unchoke_this_peer();
    }

    void on_ack(lt::string_view cumulative)
    {
        auto c = tron::parse_uint256(std::string_view(cumulative.data(), cumulative.size()));
        if (!payer_role() || !c) {
            reject("unexpected ack");
            return;
        }
        pay_->acked(*claimed_, *c);
        if (holding_ && pay_->settled(*claimed_) && pc_.native_handle() && !disconnected_)
            pc_.disconnect(lt::errors::upload_upload_connection, lt::operation_t::bittorrent);
    }

    void on_owed(lt::string_view cumulative)
    {
        auto c = tron::parse_uint256(std::string_view(cumulative.data(), cumulative.size()));
        if (!payer_role() || !c) {
            reject("unexpected owed");
            return;
        }
        spdlog::debug("btt_pay: {} says we owe {}", claimed_->base58(), tron::to_decimal(*c));
    }

    void send_hello()
    {
        auto sig = tron::sign_message(id_->key, hello_payload(their_nonce_, id_->address));
        lt::entry e;
        e["t"] = "hello";
        e["sig"] = as_string(sig);
        send(e);
    }

    void on_hello(lt::string_view sig)
    {
        if (!claimed_ || authenticated_) {
            reject("hello out of order");
            return;
        }
        auto r =
            tron::recover_message(hello_payload(nonce_, *claimed_),
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

    void reject(std::string const& reason, std::optional<tron::Uint256> price = std::nullopt)
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

    void send(lt::entry const& e)
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

    void push()
    {
        if (delta_.up == 0 && delta_.down == 0)
            return;
        if (delta_.client.empty() && pc_.native_handle()) {
            lt::peer_info info;
            pc_.get_peer_info(info);
            delta_.client = info.client;
        }
        sink_->add(delta_);
        delta_.up = delta_.down = 0;
    }

    lt::peer_connection_handle pc_;
    std::shared_ptr<Accounting> sink_;
    std::shared_ptr<Payments> pay_;
    PayIdentity const* id_ = nullptr;
    ledger::Delta delta_;
    std::int64_t up_total_ = 0;
    std::int64_t down_total_ = 0;
    std::array<std::uint8_t, 16> nonce_{};
    std::array<std::uint8_t, 16> their_nonce_{};
    std::optional<tron::Address> claimed_;
    std::optional<tron::Uint256> their_price_;
    std::optional<tron::Uint256> accepted_bid_; // provider: what this payer pays per GiB
    tron::Uint256 my_bid_ = 0;                  // payer: our bid to them; 0 = none
    std::optional<tron::Uint256> paying_at_;    // payer: registered with start_paying
    bool their_pays_ = false;
    bool same_terms_ = false;
    int remote_id_ = -1;
    bool authenticated_ = false;
    bool refusing_ = false; // payments.require and over the credit line
    Payments::PayClass class_ = Payments::PayClass::free; // as of the last tick
    ScheduleEntry sched_;                                 // upload priority (scheduler.h)
    std::int64_t sched_up_ = 0;
    bool held_by_us_ = false; // choked by the scheduler at its last run
    bool disconnected_ = false;
    std::optional<std::chrono::steady_clock::time_point> holding_;
    std::int64_t queued_ = 0; // payload put in the send buffer
    std::string endpoint_;    // endpoint_key() of the connection; empty without one
    std::optional<std::chrono::steady_clock::time_point> unreported_since_;
    std::optional<lt::error_code> close_when_reported_; // a close we deferred for unreported sends
    tron::Uint256 owed_sent_ = 0;
    tron::Uint256 last_kept_ = 0; // provider: the payer's voucher last acknowledged here
    int vouchers_ = 0;            // provider: vouchers kept from this connection
    int vouchers_at_hold_ = 0;
    std::chrono::steady_clock::time_point last_ack_{}; // provider: when we last sent an ack
    int ticks_ = 0;
    int rejected_ = 0;
};

// Every live connection of the session, for the upload scheduler. Network thread only.
struct Schedule {
    explicit Schedule(std::shared_ptr<Payments> p) : payments(std::move(p)) {}

    std::shared_ptr<Payments> payments;
    std::vector<std::weak_ptr<PeerPlugin>> peers;
    UploadScheduler policy;

    void run()
    {
        std::vector<std::shared_ptr<PeerPlugin>> live;
        std::vector<ScheduleEntry*> entries;
        std::erase_if(peers, [&](auto const& w) {
            auto p = w.lock();
            if (!p)
                return true;
            entries.push_back(&p->schedule_entry());
            live.push_back(std::move(p));
            return false;
        });
        bool const was = policy.congested();
        policy.run(entries, std::chrono::steady_clock::now(), payments->upload_limit());
        payments->set_by_bid(policy.congested());
        if (policy.congested() && spdlog::should_log(spdlog::level::debug)) {
            std::string line;
            for (std::size_t i = 0; i < entries.size(); ++i)
                if (entries[i]->wants)
                    line += fmt::format("; {} weight {:.3g} sent {}{}{}", live[i]->ip(),
                                        entries[i]->weight, entries[i]->sent,
                                        entries[i]->waiting ? " waiting" : "",
                                        entries[i]->held ? " held" : "");
            spdlog::debug("btt_pay: by bid, limit {} B/s{}", payments->upload_limit(), line);
        }
        if (was != policy.congested())
            spdlog::debug("btt_pay: upload {}", policy.congested()
                                                    ? "limited with payers waiting: by bid"
                                                    : "has room: no one held");
        for (auto const& p : live)
            p->apply_schedule();
    }
};

std::shared_ptr<PeerPlugin> make_peer(lt::peer_connection_handle const& pc, std::string torrent,
                                      std::shared_ptr<Accounting> sink,
                                      std::shared_ptr<Payments> payments)
{
    return std::make_shared<PeerPlugin>(pc, std::move(torrent), std::move(sink),
                                        std::move(payments));
}

} // namespace

std::shared_ptr<lt::peer_plugin> make_btt_pay_peer(lt::peer_connection_handle const& pc,
                                                   std::string torrent,
                                                   std::shared_ptr<Accounting> sink,
                                                   std::shared_ptr<Payments> payments)
{
    return make_peer(pc, std::move(torrent), std::move(sink), std::move(payments));
}

namespace {

class TorrentPlugin final : public lt::torrent_plugin {
public:
    TorrentPlugin(std::string id, std::shared_ptr<Accounting> sink,
                  std::shared_ptr<Payments> payments, std::shared_ptr<Schedule> schedule)
        : id_(std::move(id)), sink_(std::move(sink)), payments_(std::move(payments)),
          schedule_(std::move(schedule))
    {
    }

    std::shared_ptr<lt::peer_plugin> new_connection(lt::peer_connection_handle const& pc) override
    {
        auto p = make_peer(pc, id_, sink_, payments_);
        if (schedule_)
            schedule_->peers.push_back(p);
        return p;
    }

private:
    std::string id_;
    std::shared_ptr<Accounting> sink_;
    std::shared_ptr<Payments> payments_;
    std::shared_ptr<Schedule> schedule_;
};

class BttPay final : public lt::plugin {
public:
    BttPay(std::shared_ptr<Accounting> sink, std::shared_ptr<Payments> payments)
        : sink_(std::move(sink)), payments_(std::move(payments))
    {
        if (payments_ && payments_->terms().accept)
            schedule_ = std::make_shared<Schedule>(payments_);
    }

    lt::feature_flags_t implemented_features() override
    {
        return schedule_ ? lt::plugin::tick_feature : lt::feature_flags_t{};
    }

    void on_tick() override
    {
        if (schedule_)
            schedule_->run();
    }

    std::shared_ptr<lt::torrent_plugin> new_torrent(lt::torrent_handle const& th,
                                                    lt::client_data_t) override
    {
        auto ih = th.info_hashes();
        std::ostringstream id;
        if (ih.has_v1())
            id << ih.v1;
        else
            id << ih.v2;
        return std::make_shared<TorrentPlugin>(id.str(), sink_, payments_, schedule_);
    }

private:
    std::shared_ptr<Accounting> sink_;
    std::shared_ptr<Payments> payments_;
    std::shared_ptr<Schedule> schedule_;
};

} // namespace

std::shared_ptr<lt::plugin> make_btt_pay_plugin(std::shared_ptr<Accounting> sink,
                                                std::shared_ptr<Payments> payments)
{
    return std::make_shared<BttPay>(std::move(sink), std::move(payments));
}

} // namespace seedbox::daemon
