#!/bin/sh
# Installs the Mermaid parser into DIR when needed (install.sh), then parses
# FILE with it. usage: parse.sh DIR FILE
set -eu
sh "$(dirname "$0")/install.sh" "$1" >&2
exec node "$1/parse.mjs" "$2"
