"""Checks `pipec fmt` on every .pipe file under a folder.

For each file that parses: fmt(fmt(x)) == fmt(x) (idempotent), and fmt(x)
differs from x only in whitespace outside strings (so every comment and
token is kept). Files of the repository's examples, stdlib and test inputs
must already be in canonical layout. Prints one line per file and a summary.
"""
import os
import re
import subprocess
import sys

pipec, root = sys.argv[1], sys.argv[2]
canonical_dirs = ("examples", "stdlib", os.path.join("test", "DSL", "Inputs"),
                  os.path.join("test", "Stdlib"))
skip_dirs = {".git", "build", "node_modules"}


def fmt(path):
    r = subprocess.run([pipec, "fmt", path], capture_output=True, text=True)
    return r.returncode, r.stdout


def squeeze(text):
    return re.sub(r"\s+", "", text)


failures = checked = 0
for dirpath, dirs, files in os.walk(root):
    dirs[:] = sorted(d for d in dirs if d not in skip_dirs and not d.startswith("build"))
    for name in sorted(files):
        if not name.endswith(".pipe"):
            continue
        path = os.path.join(dirpath, name)
        rel = os.path.relpath(path, root)
        code, once = fmt(path)
        if code != 0:
            print(f"skipped (does not parse): {rel}")
            continue
        checked += 1
        tmp = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"fmt_all_{os.getpid()}.pipe")
        with open(tmp, "w") as f:
            f.write(once)
        code, twice = fmt(tmp)
        os.unlink(tmp)
        source = open(path).read()
        problems = []
        if code != 0 or twice != once:
            problems.append("not idempotent")
        if squeeze(once) != squeeze(source):
            problems.append("changed more than whitespace")
        if rel.startswith(canonical_dirs) and "messy" not in name and once != source:
            problems.append("not in canonical layout")
        if problems:
            failures += 1
            print(f"FAIL {rel}: {', '.join(problems)}")
        else:
            print(f"ok {rel}")
print(f"{checked} files formatted, {failures} failed")
sys.exit(1 if failures or checked == 0 else 0)
