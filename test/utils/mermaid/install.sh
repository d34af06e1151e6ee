#!/bin/sh
# Installs the Mermaid parser (package.json, package-lock.json) into DIR for
# the tests, once per lock file: `npm ci` when DIR lacks this lock's modules.
# usage: install.sh DIR
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dir=$1
mkdir -p "$dir"
if cmp -s "$here/package-lock.json" "$dir/package-lock.json" &&
  [ -d "$dir/node_modules/mermaid" ] && [ -d "$dir/node_modules/jsdom" ]; then
  exit 0
fi
command -v npm >/dev/null 2>&1 || {
  echo "install.sh: npm is missing: run scripts/install-deps.sh" >&2
  exit 1
}
cp "$here/package.json" "$here/package-lock.json" "$here/parse.mjs" "$dir/"
cd "$dir"
npm ci --no-audit --no-fund --silent
