// The HTTP side of settlement's node access: POSTs JSON to a TRON full node (or its solidity
// endpoints) with an optional TRON-PRO-API-KEY header, for daemon::Node.
#pragma once

#include "daemon/settlement/node.h"

namespace seedbox::rpc {

// `solidity_url` empty = `node_url`. The API key, when given, is sent on every request and never
// logged.
[[nodiscard]] daemon::NodeTransport
make_node_transport(std::string node_url, std::string solidity_url, std::string api_key);

// What the transport makes of one HTTP answer: its JSON (nesting bounded), or node_failed naming
// the status or why the body is unusable. Pure (tests/fuzz/tron_node_fuzz.cpp).
[[nodiscard]] daemon::Result<nlohmann::json> read_node_answer(std::string const& path, int status,
                                                              std::string const& body);

} // namespace seedbox::rpc
