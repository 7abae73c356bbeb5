// The TRON reference vectors (tests/fixtures/tron, made with tronweb 6.5.1 and copied from
// shared/vectors/tron) and the readers the tron_*_test.cpp files share. A read that fails fails
// the test case (REQUIRE).
#pragma once

#include "ledger/tron/bytes.h"
#include "ledger/tron/keys.h"

#include <doctest/doctest.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace seedbox::test {

inline nlohmann::json fixture(char const* name)
{
    std::ifstream in(std::string(SEEDBOX_FIXTURES) + "/tron/" + name);
    REQUIRE(in);
    return nlohmann::json::parse(in);
}

inline tron::Bytes hex(std::string const& s)
{
    auto b = tron::from_hex(s);
    REQUIRE(b);
    return *b;
}

inline tron::PrivateKey key(std::string const& h)
{
    auto k = tron::PrivateKey::from_bytes(hex(h));
    REQUIRE(k);
    return *k;
}

} // namespace seedbox::test
