#include "rpc/tron_transport.h"

#include "rpc/fetch.h"
#include "rpc/json_limits.h"

namespace seedbox::rpc {

namespace {
// The node's deepest real answer (a transaction info with logs) nests about 5 levels.
constexpr std::size_t kMaxNodeDepth = 64;
} // namespace

daemon::Result<nlohmann::json> read_node_answer(std::string const& path, int status,
                                                std::string const& body)
{
    if (status != 200)
        return daemon::make_error(daemon::Errc::node_failed,
                                  "TRON node " + path + ": HTTP " + std::to_string(status));
    // Nesting is bounded before parsing: every reader of the answer (and nlohmann's own copy,
    // dump and destructor) recurses once per level.
    if (json_depth(body, kMaxNodeDepth) > kMaxNodeDepth)
        return daemon::make_error(daemon::Errc::node_failed,
                                  "TRON node " + path + ": the answer nests deeper than " +
                                      std::to_string(kMaxNodeDepth) + " levels");
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded())
        return daemon::make_error(daemon::Errc::node_failed,
                                  "TRON node " + path + ": the answer is not JSON");
    return j;
}

daemon::NodeTransport make_node_transport(std::string node_url, std::string solidity_url,
                                          std::string api_key)
{
    auto trim = [](std::string u) {
        while (!u.empty() && u.back() == '/')
            u.pop_back();
        return u;
    };
    node_url = trim(std::move(node_url));
    solidity_url = solidity_url.empty() ? node_url : trim(std::move(solidity_url));
    return [node_url, solidity_url,
            api_key](bool solidity, std::string const& path,
                     nlohmann::json const& body) -> daemon::Result<nlohmann::json> {
        std::vector<std::pair<std::string, std::string>> headers;
        if (!api_key.empty())
            headers.emplace_back("TRON-PRO-API-KEY", api_key);
        auto url = (solidity ? solidity_url : node_url) + path;
        auto r =
            post_json(url, body.dump(), std::move(headers), 16 << 20, std::chrono::seconds(15));
        if (!r)
            return daemon::make_error(daemon::Errc::node_failed,
                                      "TRON node " + path + ": " + r.error().message);
        return read_node_answer(path, r.value().status, r.value().body);
    };
}

} // namespace seedbox::rpc
