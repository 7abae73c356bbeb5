// EventHub: an event nobody is subscribed to costs nothing (no serialization, nothing posted to
// the io thread); subscribers get every event published while they are subscribed.
#include "daemon/base/events.h"

#include <boost/asio/io_context.hpp>
#include <doctest/doctest.h>

#include <string>
#include <vector>

using seedbox::daemon::EventHub;
using seedbox::daemon::EventPayload;
using seedbox::daemon::TorrentAdded;

namespace {

int serialized = 0;

std::string count_and_write(EventPayload const&)
{
    ++serialized;
    return "{}";
}

TorrentAdded added(std::string id)
{
    TorrentAdded a;
    a.torrent.id = std::move(id);
    return a;
}

} // namespace

TEST_CASE("events: nothing is serialized or posted without subscribers")
{
    serialized = 0;
    boost::asio::io_context io;
    EventHub hub(io, count_and_write);
    // Publishes one event; returns how many handlers it queued on the io thread.
    auto publish = [&](std::string id) {
        hub.publish(added(std::move(id)));
        io.restart();
        return io.poll();
    };
    CHECK(publish("a") == 0);
    CHECK(serialized == 0);

    std::vector<std::string> got;
    auto token =
        hub.subscribe([&](std::string const& method, auto const&) { got.push_back(method); });
    CHECK(hub.subscribers() == 1);
    CHECK(publish("b") == 1);
    CHECK(serialized == 1);
    REQUIRE(got.size() == 1);
    CHECK(got[0] == "torrent.added");

    hub.unsubscribe(token);
    CHECK(hub.subscribers() == 0);
    CHECK(publish("c") == 0);
    CHECK(serialized == 1);
    CHECK(got.size() == 1);
}
