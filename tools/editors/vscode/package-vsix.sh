#!/bin/sh
# Packages the VS Code extension into pipec-VERSION.vsix with @vscode/vsce
# (npm), from the lock file. Usage: tools/editors/vscode/package-vsix.sh [OUT_DIR]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$PWD}
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$here"/package.json "$here"/package-lock.json "$here"/extension.js \
  "$here"/language-configuration.json "$here"/syntaxes "$here"/README.md "$work"/
cd "$work"
npm ci --no-audit --no-fund --loglevel=error
npx --no-install vsce package --allow-missing-repository --skip-license -o "$out"/
