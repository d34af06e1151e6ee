#!/usr/bin/env python3
"""Packages the VS Code extension with tools/editors/vscode/package-vsix.sh
and checks the .vsix as VS Code reads it: a zip whose extension/package.json
is the source's, with every file the manifest names (main script, language
configuration, grammar) and the language client it requires at run time.

Usage: check-vsix.py SOURCE_DIR OUT_DIR
"""
import json
import os
import subprocess
import sys
import zipfile


def main():
    src, out = sys.argv[1], sys.argv[2]
    ext = os.path.join(src, "tools", "editors", "vscode")
    with open(os.path.join(ext, "package.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    vsix = os.path.join(out, "pipec-%s.vsix" % manifest["version"])
    if os.path.exists(vsix):
        os.remove(vsix)
    subprocess.run(["sh", os.path.join(ext, "package-vsix.sh"), out], check=True)
    if not os.path.exists(vsix):
        sys.exit("check-vsix: %s was not written" % vsix)
    with zipfile.ZipFile(vsix) as z:
        names = set(z.namelist())
        packed = json.loads(z.read("extension/package.json"))
    problems = []
    if packed.get("name") != manifest["name"] or \
            packed.get("version") != manifest["version"]:
        problems.append("extension/package.json is not the source's manifest")
    wanted = ["extension.vsixmanifest", "[Content_Types].xml",
              "extension/" + manifest["main"].lstrip("./")]
    for lang in manifest["contributes"]["languages"]:
        wanted.append("extension/" + lang["configuration"].lstrip("./"))
    for g in manifest["contributes"]["grammars"]:
        wanted.append("extension/" + g["path"].lstrip("./"))
    for dep in manifest.get("dependencies", {}):
        wanted.append("extension/node_modules/%s/package.json" % dep)
    for dep in manifest.get("devDependencies", {}):
        if any(n.startswith("extension/node_modules/%s/" % dep) for n in names):
            problems.append("a build-time package is shipped: " + dep)
    for w in wanted:
        if w not in names:
            problems.append("missing from the .vsix: " + w)
    for p in problems:
        print("check-vsix: " + p, file=sys.stderr)
    if problems:
        sys.exit(1)
    print("check-vsix: %s holds %d files, every one the manifest names"
          % (os.path.basename(vsix), len(names)))


if __name__ == "__main__":
    main()
