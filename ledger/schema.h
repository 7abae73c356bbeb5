// ledger.db's schema: the numbered migrations Ledger::open applies (open_migrated in db.h).
#pragma once

#include <string_view>
#include <vector>

namespace seedbox::ledger {

// Every migration of ledger.db, oldest first.
[[nodiscard]] std::vector<std::string_view> const& ledger_migrations();

} // namespace seedbox::ledger
