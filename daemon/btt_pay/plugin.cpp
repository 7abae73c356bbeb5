#include "daemon/btt_pay/plugin.h"

#include <libtorrent/peer_connection_handle.hpp>
#include <libtorrent/peer_info.hpp>
#include <libtorrent/torrent_handle.hpp>

#include <sstream>

namespace seedbox::daemon {

namespace {

class PeerAccounting final : public lt::peer_plugin {
public:
    PeerAccounting(lt::peer_connection_handle pc, std::string torrent,
                   std::shared_ptr<Accounting> sink)
        : pc_(std::move(pc)), sink_(std::move(sink))
    {
        delta_.torrent = std::move(torrent);
        delta_.ip = pc_.remote().address().to_string();
    }

    lt::string_view type() const override { return "btt_pay"; }

    void sent_payload(int bytes) override { delta_.up += bytes; }

    bool on_piece(lt::peer_request const& piece, lt::span<char const>) override
    {
        delta_.down += piece.length;
        return false; // let libtorrent handle the block
    }

    // Must accept every peer: returning false detaches the plugin and accounting would stop.
    bool on_extension_handshake(lt::bdecode_node const&) override { return true; }

    void tick() override { push(); }

    void on_disconnect(lt::error_code const&) override { push(); }

private:
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
    ledger::Delta delta_;
};

class TorrentAccounting final : public lt::torrent_plugin {
public:
    TorrentAccounting(std::string id, std::shared_ptr<Accounting> sink)
        : id_(std::move(id)), sink_(std::move(sink))
    {
    }

    std::shared_ptr<lt::peer_plugin> new_connection(lt::peer_connection_handle const& pc) override
    {
        return std::make_shared<PeerAccounting>(pc, id_, sink_);
    }

private:
    std::string id_;
    std::shared_ptr<Accounting> sink_;
};

class BttPay final : public lt::plugin {
public:
    explicit BttPay(std::shared_ptr<Accounting> sink) : sink_(std::move(sink)) {}

    std::shared_ptr<lt::torrent_plugin> new_torrent(lt::torrent_handle const& th,
                                                    lt::client_data_t) override
    {
        auto ih = th.info_hashes();
        std::ostringstream id;
        if (ih.has_v1())
            id << ih.v1;
        else
            id << ih.v2;
        return std::make_shared<TorrentAccounting>(id.str(), sink_);
    }

private:
    std::shared_ptr<Accounting> sink_;
};

} // namespace

std::shared_ptr<lt::plugin> make_btt_pay_plugin(std::shared_ptr<Accounting> sink)
{
    return std::make_shared<BttPay>(std::move(sink));
}

} // namespace seedbox::daemon
