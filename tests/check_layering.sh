#!/bin/sh
# Fails when an include crosses the architecture's layers (design.md §1).
set -u
root=$1
fail=0
check() { # dir pattern message
    hits=$(grep -rnE "$2" "$root/$1" --include="*.h" --include="*.cpp" --exclude=app.cpp 2>/dev/null)
    if [ -n "$hits" ]; then echo "layering: $3"; echo "$hits"; fail=1; fi
}
check ledger '#include "(rpc|daemon)/' "ledger/ must not include rpc/ or daemon/"
check config '#include "(rpc|daemon|ledger)/' "config/ must not include other layers"
check daemon '#include "rpc/' "daemon/ must not include rpc/ (except app.cpp, the composition root)"
check rpc '#include <libtorrent/' "libtorrent headers must stay in daemon/"
check ledger '#include <(libtorrent|boost/beast)' "ledger/ must not see libtorrent or Beast"
check daemon '#include <boost/beast' "Beast belongs in rpc/"
check rpc '#include <sqlite3.h>' "SQLite belongs in ledger/"
check ledger/tron '#include (<sqlite3.h>|<boost/(asio|beast)|<libtorrent/|"ledger/(db|writer|state_store))' "ledger/tron/ is pure: no SQLite, no sockets"
exit $fail
