// The HTTP side of settlement's node access: POSTs JSON to a TRON full node (or its solidity
// endpoints) with an optional TRON-PRO-API-KEY header, for daemon::Node.
#pragma once

#include "daemon/settlement/node.h"

namespace seedbox::rpc {

// `solidity_url` empty = `node_url`. The API key, when given, is sent on every request and never
// logged.
[[nodiscard]] daemon::NodeTransport
make_node_transport(std::string node_url, std::string solidity_url, std::string api_key);

} // namespace seedbox::rpc
