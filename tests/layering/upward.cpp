// Must not compile: ledger/ cannot see daemon/ (tests/CMakeLists.txt, layering_build_*).
#include "daemon/base/errors.h"
#include "ledger/ledger.h"
