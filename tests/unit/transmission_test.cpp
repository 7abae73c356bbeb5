// The HTTP gate of /transmission/rpc (rpc/transmission_gate.h): Transmission's order of checks.
#include "rpc/transmission_gate.h"

#include <doctest/doctest.h>

#include <cctype>
#include <set>

using seedbox::rpc::transmission::Gate;
using seedbox::rpc::transmission::gate;
using seedbox::rpc::transmission::GateInput;

namespace {

std::string const kToken = "0123456789abcdef0123";
std::string const kSid = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV";

// "Basic " + base64("user:" + kToken), and with a wrong password.
std::string const kAnyUser = "Basic dXNlcjowMTIzNDU2Nzg5YWJjZGVmMDEyMw==";
std::string const kWrong = "Basic dXNlcjp3cm9uZw==";
std::string const kSonarr = "Basic c29uYXJyOjAxMjM0NTY3ODlhYmNkZWYwMTIz";

Gate run(std::string const& auth, std::string const& sid, bool post, std::string const& user = "")
{
    return gate(GateInput{auth, sid, post}, user, kToken, kSid);
}

} // namespace

TEST_CASE("transmission gate: credentials first, then the session id, then POST")
{
    CHECK(run("", "", true) == Gate::ask_credentials);
    CHECK(run("", kSid, true) == Gate::ask_credentials);
    CHECK(run("Basic Og==", kSid, true) == Gate::ask_credentials); // ":" (Sonarr, none set)
    CHECK(run(kWrong, kSid, true) == Gate::wrong_credentials);
    CHECK(run("Basic not-base64!", kSid, true) == Gate::wrong_credentials);
    CHECK(run(kAnyUser, "", false) == Gate::stale_session);
    CHECK(run(kAnyUser, "", true) == Gate::stale_session);
    CHECK(run(kAnyUser, kSid.substr(1), true) == Gate::stale_session);
    CHECK(run(kAnyUser, kSid, false) == Gate::not_post);
    CHECK(run(kAnyUser, kSid, true) == Gate::pass);
    CHECK(run("basic dXNlcjowMTIzNDU2Nzg5YWJjZGVmMDEyMw==", kSid, true) == Gate::pass);
    // seedboxd's own bearer token is a credential too.
    CHECK(run("Bearer " + kToken, kSid, true) == Gate::pass);
    CHECK(run("Bearer nope", kSid, true) == Gate::wrong_credentials);
}

TEST_CASE("transmission gate: a configured user name must match")
{
    CHECK(run(kAnyUser, kSid, true, "sonarr") == Gate::wrong_credentials);
    CHECK(run(kSonarr, kSid, true, "sonarr") == Gate::pass);
}

TEST_CASE("transmission session ids are 48 characters of [0-9A-Za-z], fresh each time")
{
    std::set<std::string> seen;
    for (int i = 0; i < 50; ++i) {
        auto id = seedbox::rpc::transmission::new_session_id();
        REQUIRE(id.size() == 48);
        for (char c : id)
            CHECK(std::isalnum(static_cast<unsigned char>(c)));
        seen.insert(id);
    }
    CHECK(seen.size() == 50);
}
