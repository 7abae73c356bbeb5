#include "daemon/base/listen_check.h"

#include <doctest/doctest.h>
#include <string>

using namespace seedbox::daemon;

TEST_CASE("listen addresses the host lacks are refused, wildcards and loopback pass")
{
    CHECK(listen_interfaces_problem("0.0.0.0:51413,[::]:51413") == "");
    CHECK(listen_interfaces_problem("127.0.0.1:0, 127.0.0.1:6881s") == "");
    CHECK(listen_interfaces_problem("lo:0") == "");
    CHECK(listen_interfaces_problem("192.0.2.1:6881").find("this host has no address 192.0.2.1") !=
          std::string::npos);
    CHECK(listen_interfaces_problem("tun9:6881").find("no network device or address named") !=
          std::string::npos);
    CHECK(listen_interfaces_problem("127.0.0.1:70000").find("port") != std::string::npos);
    CHECK(listen_interfaces_problem("127.0.0.1").find("ADDRESS:PORT") != std::string::npos);
    CHECK(listen_interfaces_problem("127.0.0.1:1,,127.0.0.1:2").find("empty entry") !=
          std::string::npos);
    CHECK(listen_interfaces_problem("").find("no listen address") != std::string::npos);
    std::string many;
    for (int i = 0; i < 65; ++i) {
        if (i)
            many += ',';
        many += "127.0.0.1:0";
    }
    CHECK(listen_interfaces_problem(many).find("more than 64") != std::string::npos);
}

TEST_CASE("the port of every listen address changes, flags kept, and coverage follows the value")
{
    CHECK(with_listen_port("0.0.0.0:6881,[::]:6881s", 51413) == "0.0.0.0:51413,[::]:51413s");
    auto const lo = boost::asio::ip::make_address("127.0.0.1");
    CHECK(listen_interfaces_cover("127.0.0.1:0", lo, 4000));
    CHECK(listen_interfaces_cover("0.0.0.0:4000", lo, 4000));
    CHECK_FALSE(listen_interfaces_cover("0.0.0.0:4001", lo, 4000));
    CHECK_FALSE(listen_interfaces_cover("[::]:4000", lo, 4000));
    CHECK_FALSE(listen_interfaces_cover("127.0.0.5:0", lo, 4000));
}
