// PeerPlugin's payment state: the provider and payer roles and their rates, bids, vouchers, acks
// and owed counts, and the credit line (refusing requests, choking, torrent.peers' view).
#include "daemon/btt_pay/plugin_internal.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <string>

namespace seedbox::daemon::detail {

bool PeerPlugin::provider_role() const
{
    return authenticated_ && same_terms_ && their_pays_ && pay_->terms().accept && accepted_bid_;
}

bool PeerPlugin::payer_role() const
{
    return authenticated_ && same_terms_ && pay_->terms().pay && paying_rate();
}

std::optional<tron::Uint256> PeerPlugin::paying_rate() const
{
    if (!their_price_)
        return std::nullopt;
    if (my_bid_ > 0)
        return my_bid_ >= *their_price_ ? std::optional(my_bid_) : std::nullopt;
    return *their_price_ <= pay_->terms().max_price ? their_price_ : std::nullopt;
}

tron::Uint256 PeerPlugin::upload_rate() const
{
    return provider_role() ? *accepted_bid_ : pay_->terms().price;
}

void PeerPlugin::consider_bid(std::optional<tron::Uint256> bid, bool raise)
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

void PeerPlugin::on_bid(lt::string_view text)
{
    if (!their_pays_ || !pay_->terms().accept) {
        reject("bids are not accepted on this connection");
        return;
    }
    consider_bid(parse_bid(text), true);
}

void PeerPlugin::on_reject_message(lt::string_view reason, lt::string_view price_text)
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

void PeerPlugin::start_paying()
{
    if (paying_at_ || disconnected_)
        return;
    paying_at_ = paying_rate();
    if (paying_at_)
        pay_->start_paying(delta_.torrent, *paying_at_);
}

void PeerPlugin::stop_paying()
{
    if (pay_ && paying_at_)
        pay_->stop_paying(delta_.torrent, *paying_at_);
    paying_at_.reset();
}

void PeerPlugin::issue(bool force)
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

void PeerPlugin::on_voucher(lt::string_view cumulative, lt::string_view sig)
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
                  {reinterpret_cast<std::uint8_t const*>(sig.data()), sig.size()}, delta_.torrent,
                  *accepted_bid_, [weak](std::string const& reason, tron::Uint256 const& kept) {
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

void PeerPlugin::on_paid()
{
    if (pay_->over_credit_line(*claimed_, delta_.ip) || disconnected_)
        return;
    refusing_ = false;
    if (pc_.native_handle() && !sched_.held)
        pc_.maybe_unchoke_this_peer();
}

void PeerPlugin::on_ack(lt::string_view cumulative)
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

void PeerPlugin::on_owed(lt::string_view cumulative)
{
    auto c = tron::parse_uint256(std::string_view(cumulative.data(), cumulative.size()));
    if (!payer_role() || !c) {
        reject("unexpected owed");
        return;
    }
    spdlog::debug("btt_pay: {} says we owe {}", claimed_->base58(), tron::to_decimal(*c));
}

bool PeerPlugin::over_credit_line() const
{
    return provider_role() ? pay_->over_credit_line(*claimed_, delta_.ip)
                           : pay_->over_credit_line(delta_.torrent, delta_.ip);
}

void PeerPlugin::publish_payment()
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

void PeerPlugin::enforce_credit_line()
{
    if (!pay_->terms().accept)
        return;
    refusing_ = over_credit_line() && pay_->terms().require;
    if (refusing_ && pc_.native_handle() && !disconnected_)
        pc_.choke_this_peer();
}

bool PeerPlugin::on_request(lt::peer_request const&)
{
    if (!refusing_ && pay_ && pay_->terms().accept && pay_->terms().require)
        refusing_ = over_credit_line();
    return refusing_;
}

} // namespace seedbox::daemon::detail
