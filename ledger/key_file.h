// The node's TRON key on disk: 64 hex digits and a newline, mode 0600. Loading refuses a file that
// group or others can read. Error messages name the path and never contain key material.
#pragma once

#include "ledger/tron/keys.h"

#include <string>

namespace seedbox::ledger {

struct KeyFileResult {
    std::optional<tron::PrivateKey> key;
    std::string error; // set when the file exists but cannot be used
    bool created = false;
};

// Loads `path`; when it does not exist and `generate` is true, creates a fresh key there
// atomically (temp file, fsync, rename). When it does not exist and `generate` is false, returns
// neither key nor error.
[[nodiscard]] KeyFileResult load_or_create_key(std::string const& path, bool generate);

} // namespace seedbox::ledger
