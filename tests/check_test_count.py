#!/usr/bin/env python3
"""Every doctest case runs exactly once under ctest.

doctest_discover_tests turns each case into a ctest entry running `unit_tests --test-case=NAME`.
CMake splits a name at ';' (and doctest reads ',' '*' '?' '[' in a filter), so a mangled entry runs
nothing and ctest still reports it green. This check asks the binary which cases each entry's own
command selects (the same filters plus --list-test-cases, which runs nothing) and fails unless
those sets cover every case the binary has, each exactly once.

usage: check_test_count.py CTEST BUILD_DIR UNIT_TESTS
"""
import json
import os
import subprocess
import sys


def listed(cmd):
    """The case names a command line selects (doctest prints them between its banner lines)."""
    out = subprocess.run(cmd + ["--list-test-cases"], check=True, capture_output=True, text=True,
                         timeout=60).stdout
    return [l for l in out.splitlines() if l and not l.startswith(("[doctest]", "====="))]


def main():
    ctest, build_dir, unit_tests = sys.argv[1:4]
    unit_tests = os.path.realpath(unit_tests)
    every = listed([unit_tests, "--no-skip"])
    if not every:
        sys.exit(f"{unit_tests} lists no test cases")
    shown = subprocess.run([ctest, "--test-dir", build_dir, "--show-only=json-v1"], check=True,
                           capture_output=True, text=True, timeout=120).stdout
    runs = {}  # case name -> ctest entries that run it
    entries = 0
    empty = []
    for t in json.loads(shown)["tests"]:
        cmd = t.get("command") or []
        if not cmd or os.path.realpath(cmd[0]) != unit_tests:
            continue
        entries += 1
        selected = listed(cmd)
        if not selected:
            empty.append(t["name"])
        for name in selected:
            runs.setdefault(name, []).append(t["name"])
    problems = [f"ctest entry runs no test case: {n!r}" for n in empty]
    problems += [f"never run by ctest: {n!r}" for n in every if n not in runs]
    problems += [f"run by {len(r)} ctest entries: {n!r} ({r})" for n, r in runs.items() if len(r) > 1]
    counted = sum(len(r) for r in runs.values())
    print(f"unit_tests has {len(every)} cases; {entries} ctest entries run {counted}")
    if problems:
        print("\n".join(problems))
        sys.exit(1)


if __name__ == "__main__":
    main()
