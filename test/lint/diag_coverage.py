#!/usr/bin/env python3
"""Fails when a diagnostic kind of ir/diagnostic_kinds.def has no lit test.

A kind counts as tested when a lit test under test/ has a CHECK line naming
its code, e.g. `# CHECK: error: unknown input 'x' [E0401]`.
"""
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else "."
defs = open(os.path.join(root, "ir", "diagnostic_kinds.def"), encoding="utf-8").read()
kinds = re.findall(r'^DIAG\((\w+),\s*"([EW]\d{4})"', defs, re.M)
if not kinds:
    sys.exit("no diagnostic kinds found")

seen = set()
# FileCheck prefixes: CHECK plus any a file names with --check-prefix(es)=.
prefix_opt = re.compile(r"--check-prefix(?:es)?[= ]([\w,-]+)")


def check_pattern(text):
    prefixes = {"CHECK"}
    for m in prefix_opt.finditer(text):
        prefixes.update(p for p in m.group(1).split(",") if p)
    names = "|".join(sorted(re.escape(p) for p in prefixes))
    return re.compile(r"(?:%s)(?:-[A-Z]+)?:.*(?:\[([EW]\d{4})\]|\"code\":\s*\"([EW]\d{4})\")" % names)

for dirpath, _, files in os.walk(os.path.join(root, "test")):
    if "unit" in dirpath.split(os.sep):
        continue
    for name in files:
        try:
            text = open(os.path.join(dirpath, name), encoding="utf-8").read()
        except (UnicodeDecodeError, OSError):
            continue
        for m in check_pattern(text).finditer(text):
            seen.add(m.group(1) or m.group(2))

missing = [(n, c) for n, c in kinds if c not in seen]
codes = [c for _, c in kinds]
dups = {c for c in codes if codes.count(c) > 1}
if dups:
    print("duplicate codes:", ", ".join(sorted(dups)))
for n, c in missing:
    print(f"no lit test checks {c} ({n})")
print(f"{len(kinds) - len(missing)} of {len(kinds)} diagnostic kinds have a lit test")
sys.exit(1 if missing or dups else 0)
