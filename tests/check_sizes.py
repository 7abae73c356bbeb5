#!/usr/bin/env python3
"""Fails when a source file or a function grows past what one reader holds in mind (issue 13).

Limits: a C++ source file (.cpp/.h under the project folders) of at most MAX_FILE_LINES lines,
and a function body of at most MAX_FUNCTION_LINES lines, unless the comment right above the
function's signature gives the reason with the words "Long because".

Functions are found the way clang-format lays them out in this project (.clang-format: braces of
a function on their own line): a line that is exactly "{" at the indentation of the signature
above it opens a function, the next "}" at that indentation closes it. Namespace, class, enum and
initializer braces share the line of what they open, so they are never taken for a function.

`--self-test` runs the checker on small files that break each rule and fails unless it catches
every one (and passes a file that keeps them).
"""
import os
import re
import sys
import tempfile

MAX_FILE_LINES = 500
MAX_FUNCTION_LINES = 60
FOLDERS = ("config", "daemon", "ledger", "rpc", "bench", "tests/unit", "tests/fuzz")
REASON = "Long because"


def functions(lines):
    """Yields (name line index, body line count, has reason) for each function in `lines`."""
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.fullmatch(r"( *)\{", line.rstrip())
        if not m or i == 0:
            i += 1
            continue
        indent = m.group(1)
        # The signature: the lines above, back to one that starts at this indentation.
        start = i - 1
        while start > 0 and not re.match(re.escape(indent) + r"\S", lines[start]):
            start -= 1
        sig = lines[start]
        if not re.match(re.escape(indent) + r"\S", sig) or not re.search(r"\)\s*(const|noexcept|override|final|->[^{]*|\s)*$", lines[i - 1].rstrip()):
            i += 1
            continue
        end = i + 1
        while end < len(lines) and lines[end].rstrip() != indent + "}":
            end += 1
        comment = []
        j = start - 1
        while j >= 0 and lines[j].strip().startswith(("//", "template", "[[")):
            comment.append(lines[j])
            j -= 1
        yield start, sig.strip(), end - i - 1, any(REASON in c for c in comment)
        i = end + 1


def check_file(path, rel):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    problems = []
    if len(lines) > MAX_FILE_LINES:
        problems.append(f"{rel}: {len(lines)} lines (at most {MAX_FILE_LINES}): split it by job")
    for start, sig, body, reason in functions(lines):
        if body > MAX_FUNCTION_LINES and not reason:
            problems.append(f"{rel}:{start + 1}: function body of {body} lines (at most "
                            f"{MAX_FUNCTION_LINES}, or say why in a comment with \"{REASON}\"): "
                            f"{sig[:80]}")
    return problems


def check_tree(root):
    problems = []
    for folder in FOLDERS:
        for dirpath, _, files in os.walk(os.path.join(root, folder)):
            for name in sorted(files):
                if name.endswith((".cpp", ".h")):
                    path = os.path.join(dirpath, name)
                    problems += check_file(path, os.path.relpath(path, root))
    return problems


def self_test():
    body = "    int x = 0;\n" * (MAX_FUNCTION_LINES + 1)
    cases = {
        "long_function": (f"int f(int a)\n{{\n{body}}}\n", 1),
        "long_member": (f"Result<json> Engine::list(std::vector<int> const& a,\n"
                        f"                          bool b) const\n{{\n{body}}}\n", 1),
        "long_file": ("int x;\n" * (MAX_FILE_LINES + 1), 1),
        "with_reason": (f"// Long because it is a table.\nint f()\n{{\n{body}}}\n", 0),
        "short": ("namespace a {\nint f()\n{\n    return 1;\n}\n} // namespace a\n", 0),
        "class_braces": (f"struct S {{\n{body}}};\n", 0),
    }
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        for name, (text, expected) in cases.items():
            path = os.path.join(tmp, name + ".cpp")
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            got = len(check_file(path, name))
            if got != expected:
                print(f"self-test {name}: expected {expected} problem(s), found {got}")
                failed = True
    print("self-test " + ("FAILED" if failed else "ok"))
    return 1 if failed else 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    problems = check_tree(root)
    for p in problems:
        print(p)
    print(f"{len(problems)} size problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
