#include "daemon/btt_pay/accounting.h"

namespace seedbox::daemon {

void Accounting::add(ledger::Delta const& d)
{
    if (d.up == 0 && d.down == 0)
        return;
    std::lock_guard lock(mutex_);
    auto [it, fresh] =
        pending_.try_emplace(Key{d.torrent, d.ip, d.client, d.address,
                                 d.price ? tron::to_decimal(*d.price) : std::string()},
                             d);
    if (!fresh) {
        it->second.up += d.up;
        it->second.down += d.down;
    }
}

std::vector<ledger::Delta> Accounting::take()
{
    std::map<Key, ledger::Delta> batch;
    {
        std::lock_guard lock(mutex_);
        batch.swap(pending_);
    }
    std::vector<ledger::Delta> out;
    out.reserve(batch.size());
    for (auto& [key, d] : batch)
        out.push_back(std::move(d));
    return out;
}

} // namespace seedbox::daemon
