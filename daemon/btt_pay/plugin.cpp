// The session and torrent plugins of the btt_pay extension: BttPay runs the upload schedule on
// the session tick, TorrentPlugin attaches a PeerPlugin to every connection of its torrent.
#include "daemon/btt_pay/plugin.h"

#include "daemon/btt_pay/plugin_internal.h"

#include <libtorrent/torrent_handle.hpp>

#include <memory>
#include <sstream>
#include <utility>

namespace seedbox::daemon {

namespace {

using detail::make_peer;
using detail::Schedule;

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
