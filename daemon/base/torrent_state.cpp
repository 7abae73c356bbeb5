#include "daemon/base/torrent_state.h"

namespace seedbox::daemon {

char const* name(TorrentState s)
{
    switch (s) {
    case TorrentState::loading:
        return "loading";
    case TorrentState::stopped:
        return "stopped";
    case TorrentState::queued:
        return "queued";
    case TorrentState::checking_resume:
        return "checking_resume";
    case TorrentState::checking:
        return "checking";
    case TorrentState::downloading_metadata:
        return "downloading_metadata";
    case TorrentState::downloading:
        return "downloading";
    case TorrentState::finished:
        return "finished";
    case TorrentState::seeding:
        return "seeding";
    case TorrentState::moving:
        return "moving";
    case TorrentState::error:
        return "error";
    case TorrentState::unknown:
        break;
    }
    return "unknown";
}

std::vector<std::string> const& torrent_states()
{
    static auto const list = [] {
        std::vector<std::string> v;
        for (int i = 0; i < static_cast<int>(TorrentState::unknown); ++i)
            v.emplace_back(name(static_cast<TorrentState>(i)));
        return v;
    }();
    return list;
}

} // namespace seedbox::daemon
