// The HTTP gate of /transmission/rpc (rpc/transmission_gate.h): Transmission's order of checks.
#include "rpc/transmission_gate.h"

#include <doctest/doctest.h>

#include "config/password_hash.h"

#include <openssl/evp.h>

#include <cctype>
#include <functional>
#include <memory>
#include <set>
#include <vector>

namespace transmission = seedbox::rpc::transmission;
using transmission::Gate;

namespace {

std::string const kToken = "0123456789abcdef0123";
std::string const kSid = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV";

// "Basic " + base64("user:" + kToken), and with a wrong password.
std::string const kAnyUser = "Basic dXNlcjowMTIzNDU2Nzg5YWJjZGVmMDEyMw==";
std::string const kWrong = "Basic dXNlcjp3cm9uZw==";
std::string const kSonarr = "Basic c29uYXJyOjAxMjM0NTY3ODlhYmNkZWYwMTIz";

// The two steps as the HTTP session takes them.
Gate run(std::string const& auth, std::string const& sid, bool post, std::string const& user = "")
{
    auto g = transmission::credentials(auth, {user, kToken}, nullptr);
    return g == Gate::pass ? transmission::handshake(sid, post, kSid) : g;
}

std::string basic(std::string const& user_password)
{
    std::string out(4 * ((user_password.size() + 2) / 3) + 1, '\0');
    out.resize(static_cast<std::size_t>(
        EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                        reinterpret_cast<unsigned char const*>(user_password.data()),
                        static_cast<int>(user_password.size()))));
    return "Basic " + out;
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

TEST_CASE("transmission.password: scrypt decides once, then the password is remembered")
{
    std::string err;
    auto hash =
        seedbox::config::parse_password_hash(seedbox::config::hash_password("correct horse"), err);
    REQUIRE(hash);
    CHECK(err.empty());
    auto check = std::make_shared<transmission::PasswordCheck>(*hash);
    std::string const user = "sonarr";
    transmission::Login const login{user, kToken, check.get()};
    std::string to_check;
    // The token still works, and a wrong user name fails before any scrypt.
    CHECK(transmission::credentials(basic("sonarr:" + kToken), login, &to_check) == Gate::pass);
    CHECK(transmission::credentials(basic("radarr:correct horse"), login, &to_check) ==
          Gate::wrong_credentials);
    CHECK(transmission::credentials(basic("sonarr:"), login, &to_check) == Gate::wrong_credentials);
    REQUIRE(transmission::credentials(basic("sonarr:correct horse"), login, &to_check) ==
            Gate::check_password);
    CHECK(to_check == "correct horse");
    CHECK_FALSE(check->remembered("correct horse"));
}

TEST_CASE("transmission.password: one scrypt per password, a few at a time, every caller answered")
{
    std::string err;
    auto hash =
        seedbox::config::parse_password_hash(seedbox::config::hash_password("correct horse"), err);
    REQUIRE(hash);
    auto check = std::make_shared<transmission::PasswordCheck>(*hash);
    std::string const user = "sonarr";
    transmission::Login const login{user, kToken, check.get()};
    std::string to_check;
    // The scrypt jobs are held here and run by hand.
    std::vector<std::function<void()>> jobs;
    auto offload = [&](std::function<void()> job) {
        jobs.push_back(std::move(job));
        return true;
    };
    std::vector<Gate> answers(8, Gate::check_password);
    auto into = [&](std::size_t i) { return [&answers, i](Gate g) { answers[i] = g; }; };
    // Three requests with the right password (two addresses): one check. Another password from
    // a third address: a second check; from an address already waiting for another: busy. A
    // third password while two are checked: busy at once.
    check->check_later("correct horse", "10.0.0.1", offload, into(0));
    check->check_later("correct horse", "10.0.0.1", offload, into(1));
    check->check_later("correct horse", "10.0.0.2", offload, into(2));
    check->check_later("correct horsE", "10.0.0.3", offload, into(3));
    check->check_later("third", "10.0.0.4", offload, into(4));
    check->check_later("correct horsE", "10.0.0.1", offload, into(6));
    CHECK(jobs.size() == 2);
    CHECK(answers[4] == Gate::busy);
    CHECK(answers[6] == Gate::busy);
    CHECK(answers[0] == Gate::check_password); // still waiting
    for (auto& job : jobs)
        job();
    jobs.clear();
    CHECK(answers == std::vector<Gate>{Gate::pass, Gate::pass, Gate::pass, Gate::wrong_credentials,
                                       Gate::busy, Gate::check_password, Gate::busy,
                                       Gate::check_password});
    // The address is free again once its check answered.
    check->check_later("correct horsE", "10.0.0.1", offload, into(6));
    REQUIRE(jobs.size() == 1);
    jobs.front()();
    CHECK(answers[6] == Gate::wrong_credentials);
    CHECK(check->remembered("correct horse"));
    CHECK_FALSE(check->remembered("correct horsE"));
    CHECK(transmission::credentials(basic("sonarr:correct horse"), login, &to_check) == Gate::pass);
    // Still a scrypt check for anything else; a job the pool cannot take answers busy.
    CHECK(transmission::credentials(basic("sonarr:correct horsE"), login, &to_check) ==
          Gate::check_password);
    check->check_later(
        "x", "10.0.0.5", [](std::function<void()>) { return false; }, into(5));
    CHECK(answers[5] == Gate::busy);
    // A job taken and then dropped unrun (a pool stopping) answers busy too.
    check->check_later("y", "10.0.0.5", offload, into(7));
    REQUIRE(jobs.size() == 2);
    CHECK(answers[7] == Gate::check_password);
    jobs.pop_back();
    CHECK(answers[7] == Gate::busy);
}

TEST_CASE("transmission.password hashes: PHC strings with declared ranges")
{
    using seedbox::config::parse_password_hash;
    std::string err;
    auto made = seedbox::config::hash_password("x");
    CHECK(made.rfind("$scrypt$ln=15,r=8,p=1$", 0) == 0);
    CHECK(made != seedbox::config::hash_password("x")); // a fresh salt each time
    auto ok = parse_password_hash(made, err);
    REQUIRE(ok);
    CHECK(ok->salt.size() == 16);
    CHECK(ok->key.size() == 32);
    CHECK(seedbox::config::password_matches(*ok, "x"));
    CHECK_FALSE(seedbox::config::password_matches(*ok, "y"));
    auto const tail = made.substr(made.find('$', 8));
    for (std::string const& bad : std::vector<std::string>{
             "hunter2", "$scrypt$", "$scrypt$ln=15,r=8,p=1$", "$pbkdf2$i=1$aaaa$bbbb",
             "$scrypt$ln=9,r=8,p=1" + tail, "$scrypt$ln=21,r=8,p=1" + tail,
             "$scrypt$ln=20,r=8,p=1" + tail, // 1 GiB
             "$scrypt$ln=15,r=0,p=1" + tail, "$scrypt$ln=15,r=8,p=5" + tail,
             "$scrypt$ln=16,r=1,p=1" + tail, // scrypt needs N < 2^(16 r)
             "$scrypt$ln=15,p=1,r=8" + tail, "$scrypt$ln=15,r=8,p=1,x=1" + tail,
             "$scrypt$ln=015,r=8,p=1" + tail,
             "$scrypt$ln=15,r=8,p=1$c2FsdA$" + made.substr(made.rfind('$') + 1), made + "=",
             made + "$"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_password_hash(bad, err));
        CHECK_FALSE(err.empty());
    }
    CHECK(parse_password_hash("$scrypt$ln=16,r=8,p=1" + tail, err)); // 64 MiB
    CHECK(parse_password_hash("$scrypt$ln=15,r=1,p=1" + tail, err));
}
