#include "rpc/transmission_gate.h"

#include "rpc/auth.h"
#include "rpc/base64.h"

#include <boost/algorithm/string/predicate.hpp>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <spdlog/spdlog.h>

#include <chrono>
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

Gate credentials(std::string_view authorization, Login const& login, std::string* to_check)
{
    if (authorization.empty())
        return Gate::ask_credentials;
    std::string u, password;
    if (!basic_credentials(authorization, u, password))
        return token_equal(bearer_token(authorization), login.token) ? Gate::pass
                                                                     : Gate::wrong_credentials;
    if (u.empty() && password.empty())
        return Gate::ask_credentials; // "Basic Og==": Sonarr with no credentials set
    if (!login.user.empty() && u != login.user)
        return Gate::wrong_credentials;
    if (token_equal(password, login.token))
        return Gate::pass;
    if (!login.password || password.empty())
        return Gate::wrong_credentials;
    if (login.password->remembered(password))
        return Gate::pass;
    if (to_check)
        *to_check = std::move(password);
    return Gate::check_password;
}

Gate handshake(std::string_view session_id_header, bool post, std::string const& session_id)
{
    if (!token_equal(session_id_header, session_id))
        return Gate::stale_session;
    return post ? Gate::pass : Gate::not_post;
}

PasswordCheck::PasswordCheck(config::PasswordHash hash) : hash_(std::move(hash)), key_(32, '\0')
{
    if (RAND_bytes(reinterpret_cast<unsigned char*>(key_.data()), static_cast<int>(key_.size())) !=
        1)
        throw std::runtime_error("no randomness for the password check");
}

std::string PasswordCheck::digest(std::string_view password) const
{
    std::string out(EVP_MAX_MD_SIZE, '\0');
    unsigned int n = 0;
    if (!HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
              reinterpret_cast<unsigned char const*>(password.data()), password.size(),
              reinterpret_cast<unsigned char*>(out.data()), &n) ||
        n != 32)
        throw std::runtime_error("HMAC-SHA256 failed");
    out.resize(n);
    return out;
}

bool PasswordCheck::remembered(std::string_view password) const
{
    auto const d = digest(password);
    std::lock_guard lock(mutex_);
    return !known_.empty() && token_equal(d, known_);
}

namespace {

// pass or wrong_credentials; busy when scrypt fails (out of memory).
Gate run_scrypt(config::PasswordHash const& hash, std::string const& password)
{
    try {
        auto const start = std::chrono::steady_clock::now();
        auto const g =
            config::password_matches(hash, password) ? Gate::pass : Gate::wrong_credentials;
        spdlog::debug("transmission.password: scrypt took {} ms: {}",
                      std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - start)
                          .count(),
                      g == Gate::pass ? "right" : "wrong");
        return g;
    } catch (std::exception const& e) {
        spdlog::error("transmission.password: cannot check a password: {}", e.what());
        return Gate::busy;
    }
}

} // namespace

void PasswordCheck::check_later(std::string password, std::string const& address,
                                Offload const& offload, Answer answer)
{
    auto d = digest(password);
    bool first = false;
    {
        std::lock_guard lock(mutex_);
        auto const mine = by_address_.find(address);
        if (mine != by_address_.end() && mine->second != d)
            first = false; // one password at a time from each address
        else if (auto it = waiting_.find(d); it != waiting_.end()) {
            by_address_[address] = d;
            it->second.addresses.insert(address);
            return it->second.answers.push_back(std::move(answer));
        } else if (waiting_.size() < kMaxDistinct) {
            first = true;
            auto& pending = waiting_[d];
            pending.answers.push_back(answer);
            pending.addresses.insert(address);
            by_address_[address] = d;
        }
    }
    if (!first) // too many other passwords being checked
        return answer(Gate::busy);
    // Answers busy if the job is dropped unrun (the pool stopping): nobody waits forever.
    struct Unanswered {
        std::shared_ptr<PasswordCheck> self;
        std::string digest;
        bool answered = false;
        ~Unanswered()
        {
            if (!answered)
                try {
                    self->answer_all(digest, Gate::busy);
                } catch (...) {
                }
        }
    };
    auto guard = std::make_shared<Unanswered>(); // built in place: a temporary would answer
    guard->self = shared_from_this();
    guard->digest = d;
    auto job = [guard, password = std::move(password)] {
        auto& self = *guard->self;
        auto const g = run_scrypt(self.hash_, password);
        if (g == Gate::pass) {
            std::lock_guard lock(self.mutex_);
            self.known_ = guard->digest;
        }
        guard->answered = true;
        self.answer_all(guard->digest, g);
    };
    if (!offload(std::move(job)))
        return; // the guard answers busy
}

void PasswordCheck::answer_all(std::string const& digest, Gate g)
{
    std::vector<Answer> answers;
    {
        std::lock_guard lock(mutex_);
        auto it = waiting_.find(digest);
        if (it == waiting_.end())
            return;
        answers = std::move(it->second.answers);
        for (auto const& a : it->second.addresses)
            if (auto m = by_address_.find(a); m != by_address_.end() && m->second == digest)
                by_address_.erase(m);
        waiting_.erase(it);
    }
    for (auto& a : answers)
        a(g);
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
    } else if (g == Gate::busy || g == Gate::check_password) {
        status = http::status::service_unavailable;
        body = "<h1>503: Busy</h1>Too many password checks at once; retry";
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
    if (status == http::status::service_unavailable)
        res.set(http::field::retry_after, "1");
    res.body() = std::move(body);
    res.keep_alive(keep_alive);
    res.prepare_payload();
    return res;
}

} // namespace seedbox::rpc::transmission
