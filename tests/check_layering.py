#!/usr/bin/env python3
"""Fails when an include crosses the architecture's layers (ARCHITECTURE.md, design.md §1).

Every include form is read: "dir/x.h" and <dir/x.h> from the repository root, and "x.h" or
"../x.h" relative to the including file. The table LAYERS says which project folders each folder
may include; the composition root (COMPOSITION_ROOT) may include anything. The folder graph must
have no cycle. `--self-test` runs the checker on small trees that break each rule and fails
unless it catches every one.
"""
import os
import re
import sys
import tempfile

# folder -> the project folders its files may include (besides its own).
LAYERS = {
    "config": set(),
    "ledger/tron": set(),
    "ledger": {"ledger/tron"},
    "daemon/base": {"config", "ledger", "ledger/tron"},
    "daemon/btt_pay": {"daemon/base", "ledger", "ledger/tron"},
    "daemon/torrent": {"config", "daemon/base", "daemon/btt_pay", "ledger", "ledger/tron"},
    "daemon/settlement": {"config", "daemon/base", "ledger", "ledger/tron"},
    "daemon": {"config", "daemon/base", "daemon/btt_pay", "daemon/torrent", "daemon/settlement",
               "ledger", "ledger/tron"},
    "rpc/methods": {"rpc", "config", "daemon/base", "daemon/torrent", "daemon/settlement",
                    "ledger", "ledger/tron"},
    "rpc": {"rpc/methods", "config", "daemon/base", "daemon/torrent", "daemon/settlement",
            "ledger", "ledger/tron"},
    # Transmission's RPC: a translation layer over the engine, beside rpc/methods.
    "rpc/transmission": {"rpc", "config", "daemon/base", "daemon/torrent", "ledger",
                         "ledger/tron"},
    # seedboxctl knows the daemon through its JSON-RPC API only.
    "rpc/ctl": {"rpc/base64.h"},
}
# The files that wire every layer together (seedboxd's main and run_app).
COMPOSITION_ROOT = {"daemon/main.cpp", "daemon/app.cpp"}
# Third-party headers and the only folders that may include them.
SYSTEM = [
    (re.compile(r"^libtorrent/"), {"daemon/torrent", "daemon/btt_pay"}),
    (re.compile(r"^boost/beast"), {"rpc", "rpc/ctl", "rpc/methods", "rpc/transmission"}),
    (re.compile(r"^sqlite3\.h$"), {"ledger"}),
]
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def folder_of(path):
    """The deepest LAYERS folder that directly holds `path` (a repo-relative file path)."""
    d = os.path.dirname(path)
    return d if d in LAYERS else None


def resolve(root, src, quote, inc):
    """The repo-relative path an include names, or None for a header outside the project."""
    candidates = [inc]
    if quote == '"':
        candidates.insert(0, os.path.normpath(os.path.join(os.path.dirname(src), inc)))
    for c in candidates:
        if not c.startswith("..") and os.path.isfile(os.path.join(root, c)):
            return c
    return None


def check(root):
    problems = []
    edges = {}
    for d in LAYERS:
        full = os.path.join(root, d)
        if not os.path.isdir(full):
            continue
        for name in sorted(os.listdir(full)):
            if not name.endswith((".h", ".cpp")):
                continue
            src = f"{d}/{name}"
            with open(os.path.join(root, src), encoding="utf-8", errors="replace") as f:
                for n, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    quote, inc = m.groups()
                    where = f"{src}:{n}: {line.strip()}"
                    target = resolve(root, src, quote, inc)
                    if target is None:
                        if quote == '"' or inc.split("/")[0] in {"rpc", "daemon", "ledger",
                                                                  "config"}:
                            problems.append(f"{where}: names no file of the project")
                        for pattern, allowed in SYSTEM:
                            if pattern.search(inc) and d not in allowed:
                                problems.append(f"{where}: {inc} belongs in "
                                                f"{' or '.join(sorted(allowed))} only")
                        continue
                    to = os.path.dirname(target)
                    if to == d or src in COMPOSITION_ROOT:
                        continue
                    edges.setdefault(d, set()).add(to)
                    allowed = LAYERS[d]
                    if to not in allowed and target not in allowed:
                        problems.append(f"{where}: {d}/ may not include {to}/")
    # The folder graph must be acyclic.
    state = {}

    def visit(node, path):
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                problems.append("folder cycle: " + " -> ".join(path + [nxt]))
            elif state.get(nxt) is None:
                visit(nxt, path + [nxt])
        state[node] = 2

    for node in sorted(edges):
        if state.get(node) is None:
            visit(node, [node])
    return problems


def self_test():
    """Each tree breaks one rule; the checker must report every one, and pass a clean tree."""
    cases = {
        "upward include": {"ledger/a.h": '#include "daemon/base/b.h"\n', "daemon/base/b.h": ""},
        "angle-bracket include": {"config/a.h": "#include <rpc/x.h>\n", "rpc/x.h": ""},
        "relative include": {"ledger/tron/a.h": '#include "../ledger.h"\n', "ledger/ledger.h": ""},
        "libtorrent outside the engine": {"rpc/a.cpp": "#include <libtorrent/session.hpp>\n"},
        "a file named app.cpp elsewhere": {"daemon/torrent/app.cpp": '#include "rpc/x.h"\n',
                                           "rpc/x.h": ""},
        "ctl reaching into the daemon": {"rpc/ctl/a.cpp": '#include "rpc/errors.h"\n',
                                         "rpc/errors.h": ""},
        "a missing project header": {"rpc/a.cpp": '#include "rpc/nothing.h"\n'},
    }
    failed = 0
    for name, files in cases.items():
        with tempfile.TemporaryDirectory() as root:
            for path, text in files.items():
                os.makedirs(os.path.join(root, os.path.dirname(path)), exist_ok=True)
                with open(os.path.join(root, path), "w") as f:
                    f.write(text)
            if not check(root):
                print(f"self-test: not caught: {name}")
                failed = 1
    with tempfile.TemporaryDirectory() as root:
        os.makedirs(os.path.join(root, "daemon", "base"))
        with open(os.path.join(root, "daemon", "a.h"), "w") as f:
            f.write('#include "daemon/base/b.h"\n#include <vector>\n')
        open(os.path.join(root, "daemon", "base", "b.h"), "w").close()
        if check(root):
            print("self-test: a clean tree was refused: " + "; ".join(check(root)))
            failed = 1
    return failed


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        sys.exit(self_test())
    problems = check(sys.argv[1])
    for p in problems:
        print("layering: " + p)
    sys.exit(1 if problems else 0)
