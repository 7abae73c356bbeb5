// seedboxctl's connection to seedboxd: JSON-RPC over HTTP POST /rpc, GET /healthz, and the event
// stream over the WebSocket on the same path. Blocking, one request at a time. Every failure is a
// CtlError with a message for a person and the exit code seedboxctl returns for it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace seedbox::ctl {

using json = nlohmann::json;

// Exit codes: 1 the daemon answered with a JSON-RPC error, 2 usage or local error, 3 cannot
// connect, 4 unauthorized (token), 5 any other HTTP or protocol failure.
struct CtlError : std::runtime_error {
    CtlError(int exit_code, std::string const& message)
        : std::runtime_error(message), exit_code(exit_code)
    {
    }
    int exit_code;
};

struct Url {
    std::string host;
    std::string port;
    std::string text; // as given, for messages
    bool tls = false; // https: a TLS proxy in front of the daemon
};
// "http(s)://HOST[:PORT][/]" ("[v6]:PORT" too); the port defaults to 80 or 443.
[[nodiscard]] Url parse_url(std::string const& text);

class Client {
public:
    // cacert: a PEM file of extra trusted certificates for https (the system store is always used).
    Client(Url url, std::string token, std::chrono::seconds timeout, std::string cacert = {});

    // The call's result; a JSON-RPC error becomes CtlError(1, "<message> (code N)").
    json call(std::string const& method, json params = json::object());
    // GET a path; returns the body of a 200 answer.
    std::string get(std::string const& path);
    // Subscribes (events empty = all) and calls on_event(method, params) for each notification
    // until it returns false or the daemon closes the connection.
    void watch(std::vector<std::string> const& events,
               std::function<bool(std::string const&, json const&)> const& on_event);

private:
    Url url_;
    std::string token_;
    std::chrono::seconds timeout_;
    std::string cacert_;
    std::int64_t next_id_ = 1;
};

} // namespace seedbox::ctl
