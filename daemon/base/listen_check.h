// Checks a libtorrent listen_interfaces value before it is applied, so a missing interface fails
// closed (an error at start and on session.set_settings) instead of leaving the daemon listening
// on less than the operator asked for, or on nothing. Pure, cheap system calls: any thread.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <string>

namespace seedbox::daemon {

// "" when every entry ("ADDR:PORT", "[V6]:PORT" or "DEVICE:PORT", with libtorrent's optional
// "s"/"l" flags after the port) names a wildcard address, an address this host has, or an
// existing network device; else a message naming the entry and why.
[[nodiscard]] std::string listen_interfaces_problem(std::string const& value);

// Replaces the port of every "ADDR:PORT" in a listen_interfaces value (flags kept).
[[nodiscard]] std::string with_listen_port(std::string const& value, int port);

// True when `value` has an entry the socket at addr:port may belong to (that address, a wildcard
// of its family, or a device; that port or port 0). Used to forget sockets libtorrent closes when
// listen_interfaces changes (it reports the ones it opens, not the ones it closes).
[[nodiscard]] bool listen_interfaces_cover(std::string const& value,
                                           boost::asio::ip::address const& addr, int port);

} // namespace seedbox::daemon
