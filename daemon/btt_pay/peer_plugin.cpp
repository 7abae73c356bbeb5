// PeerPlugin's life cycle: construction, byte counting (sent_payload, on_piece, push), the
// once-a-second tick, and closing (can_disconnect, on_disconnect).
#include "daemon/btt_pay/plugin_internal.h"

#include <libtorrent/peer_info.hpp>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <utility>

namespace seedbox::daemon {
namespace detail {

PeerPlugin::PeerPlugin(lt::peer_connection_handle pc, std::string torrent,
                       std::shared_ptr<Accounting> sink, std::shared_ptr<Payments> payments)
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

PeerPlugin::~PeerPlugin()
{
    if (pay_ && !endpoint_.empty())
        pay_->forget_peer_payment(delta_.torrent, endpoint_);
    stop_paying();
}

void PeerPlugin::sent_payload(int bytes)
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

bool PeerPlugin::on_piece(lt::peer_request const& piece, lt::span<char const>)
{
    delta_.down += piece.length;
    down_total_ += piece.length;
    if (payer_role())
        pay_->downloaded(*claimed_, piece.length, *paying_rate());
    return false; // let libtorrent handle the block
}

bool PeerPlugin::unreported_sends(std::chrono::steady_clock::time_point now)
{
    if (queued_ <= up_total_) {
        unreported_since_.reset();
        return false;
    }
    if (!unreported_since_)
        unreported_since_ = now;
    return now - *unreported_since_ <= std::chrono::seconds(10);
}

void PeerPlugin::tick()
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

bool PeerPlugin::can_disconnect(lt::error_code const& ec)
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

void PeerPlugin::on_disconnect(lt::error_code const& ec)
{
    // Why a connection ended, for the rare test run where a paying peer drops early.
    spdlog::debug("btt_pay: {} disconnected ({})", endpoint_, ec.message());
    disconnected_ = true;
    if (pay_ && !endpoint_.empty())
        pay_->forget_peer_payment(delta_.torrent, endpoint_);
    stop_paying();
    push();
}

void PeerPlugin::push()
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

std::shared_ptr<PeerPlugin> make_peer(lt::peer_connection_handle const& pc, std::string torrent,
                                      std::shared_ptr<Accounting> sink,
                                      std::shared_ptr<Payments> payments)
{
    return std::make_shared<PeerPlugin>(pc, std::move(torrent), std::move(sink),
                                        std::move(payments));
}

} // namespace detail

std::shared_ptr<lt::peer_plugin> make_btt_pay_peer(lt::peer_connection_handle const& pc,
                                                   std::string torrent,
                                                   std::shared_ptr<Accounting> sink,
                                                   std::shared_ptr<Payments> payments)
{
    return detail::make_peer(pc, std::move(torrent), std::move(sink), std::move(payments));
}

} // namespace seedbox::daemon
