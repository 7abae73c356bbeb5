// Shared by the fuzz targets: a property that does not hold names itself on stderr and traps, so
// libFuzzer reports it like a crash and keeps the input.
#pragma once

#include <cstdio>

namespace seedbox::fuzz {

[[noreturn]] inline void fail(char const* what)
{
    std::fprintf(stderr, "fuzz property violated: %s\n", what);
    std::fflush(stderr);
    __builtin_trap();
}

inline void require(bool ok, char const* what)
{
    if (!ok)
        fail(what);
}

} // namespace seedbox::fuzz

// require() with the condition's own text as the message.
#define FUZZ_CHECK(cond) ::seedbox::fuzz::require((cond), #cond)
