#!/bin/sh
# Fails when clang-format would change a tracked C++ file.
set -u
cd "$1" || exit 1
bad=0
for f in $(find config daemon ledger rpc tests -name '*.cpp' -o -name '*.h'); do
    clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || { echo "not clang-formatted: $f"; bad=1; }
done
exit $bad
