#include "rpc/transmission_gate.h"

#include "rpc/auth.h"
#include "rpc/base64.h"

#include <boost/algorithm/string/predicate.hpp>
#include <openssl/rand.h>

#include <stdexcept>

namespace seedbox::rpc::transmission {

namespace {

// "Basic <base64 of user:password>" as its two parts; false when it is not Basic.
bool basic_credentials(std::string_view header, std::string& user, std::string& password)
{
    constexpr std::string_view scheme = "Basic ";
    if (header.size() <= scheme.size() ||
        !boost::algorithm::iequals(header.substr(0, scheme.size()), scheme))
        return false;
    std::string decoded;
    if (!base64_decode(std::string(header.substr(scheme.size())), decoded))
        return false;
    auto colon = decoded.find(':');
    if (colon == std::string::npos)
        return false;
    user = decoded.substr(0, colon);
    password = decoded.substr(colon + 1);
    return true;
}

} // namespace

std::string new_session_id()
{
    static constexpr std::string_view alphabet =
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    std::string id;
    while (id.size() < 48) {
        unsigned char raw[64];
        if (RAND_bytes(raw, sizeof raw) != 1)
            throw std::runtime_error("no randomness for the Transmission session id");
        for (auto b : raw) // 248 = 4 x 62: larger bytes are dropped so every character is as likely
            if (b < 248 && id.size() < 48)
                id += alphabet[b % alphabet.size()];
    }
    return id;
}

Gate credentials(std::string_view authorization, std::string const& user, std::string const& token)
{
    if (authorization.empty())
        return Gate::ask_credentials;
    std::string u, password;
    bool const basic = basic_credentials(authorization, u, password);
    if (basic && u.empty() && password.empty())
        return Gate::ask_credentials; // "Basic Og==": Sonarr with no credentials set
    bool const ok = basic ? token_equal(password, token) && (user.empty() || u == user)
                          : token_equal(bearer_token(authorization), token);
    return ok ? Gate::pass : Gate::wrong_credentials;
}

Gate gate(GateInput const& in, std::string const& user, std::string const& token,
          std::string const& session_id)
{
    if (auto g = credentials(in.authorization, user, token); g != Gate::pass)
        return g;
    if (!token_equal(in.session_id, session_id))
        return Gate::stale_session;
    return in.post ? Gate::pass : Gate::not_post;
}

namespace {

namespace http = boost::beast::http;

std::string conflict_body(std::string const& session_id)
{
    return "<h1>409: Conflict</h1><p>Your request had an invalid session-id header.</p>"
           "<p>To fix this, follow these steps:<ol><li> When reading a response, get its "
           "X-Transmission-Session-Id header and remember it<li> Add the updated header to your "
           "outgoing requests<li> When you get this 409 error message, resend your request with "
           "the updated header</ol></p><p>This requirement has been added to help prevent "
           "CSRF attacks.</p><p><code>X-Transmission-Session-Id: " +
           session_id + "</code></p>";
}

} // namespace

http::response<http::string_body> gate_response(Gate g, unsigned version, bool keep_alive,
                                                std::string const& session_id)
{
    http::status status = http::status::method_not_allowed;
    std::string body = "<h1>405: Method Not Allowed</h1>";
    if (g == Gate::ask_credentials || g == Gate::wrong_credentials) {
        status = http::status::unauthorized;
        body = "<h1>401: Unauthorized</h1>Unauthorized User";
    } else if (g == Gate::stale_session) {
        status = http::status::conflict;
        body = conflict_body(session_id);
    }
    http::response<http::string_body> res{status, version};
    res.set(http::field::server, "seedboxd");
    res.set(http::field::content_type, "text/html; charset=ISO-8859-1");
    if (status == http::status::unauthorized)
        res.set(http::field::www_authenticate, "Basic realm=\"Transmission\"");
    if (status == http::status::conflict) {
        res.set("X-Transmission-Session-Id", session_id);
        // As 4.1 sends it: clients of 4.1 then speak its JSON-RPC form.
        res.set("X-Transmission-Rpc-Version", std::string(kRpcVersionSemver));
    }
    if (status == http::status::method_not_allowed)
        res.set(http::field::allow, "POST");
    res.body() = std::move(body);
    res.keep_alive(keep_alive);
    res.prepare_payload();
    return res;
}

} // namespace seedbox::rpc::transmission
