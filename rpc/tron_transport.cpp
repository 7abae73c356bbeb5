#include "rpc/tron_transport.h"

#include "rpc/fetch.h"

namespace seedbox::rpc {

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
        if (r.value().status != 200)
            return daemon::make_error(daemon::Errc::node_failed,
                                      "TRON node " + path + ": HTTP " +
                                          std::to_string(r.value().status));
        auto j = nlohmann::json::parse(r.value().body, nullptr, false);
        if (j.is_discarded())
            return daemon::make_error(daemon::Errc::node_failed,
                                      "TRON node " + path + ": the answer is not JSON");
        return j;
    };
}

} // namespace seedbox::rpc
