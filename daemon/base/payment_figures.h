// btt_pay's figures as session.stats and /metrics report them. Here, below both daemon/btt_pay
// (which counts them) and daemon/torrent (which reports them), so neither includes the other's
// headers for it.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace seedbox::daemon {

struct PaymentFigures {
    // Payload bytes uploaded by the payment class of the connection when they were sent.
    std::map<std::string, std::int64_t> uploaded_by_class;
    // Connections by payment class now (paid, free, over_credit_line).
    std::map<std::string, std::int64_t> peers_by_class;
    // True while the upload limit binds and peers are served in bid order.
    bool upload_by_bid = false;
};

} // namespace seedbox::daemon
