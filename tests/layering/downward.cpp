// Must compile: ledger/ may include ledger/tron/ (tests/CMakeLists.txt, layering_build_*).
#include "ledger/ledger.h"
#include "ledger/tron/address.h"
