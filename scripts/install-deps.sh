#!/bin/sh
# Installs every system package pipec needs to build and test, from Debian 12 only.
# Idempotent: packages already present are left alone and nothing is downloaded
# when everything is installed.
set -eu

PACKAGES="
  build-essential cmake ninja-build ccache git
  g++ clang clang-14 clang-format-14 libclang-rt-14-dev
  llvm-14-dev llvm-14-tools
  libyaml-cpp-dev libfmt-dev libboost-graph-dev graphviz libxxhash-dev
  antlr4 libantlr4-runtime-dev
  googletest libgtest-dev
  python3 python3-venv python3-pandas python3-sklearn python3-xgboost python3-torch python3-yaml
  nodejs neovim
  dash shellcheck make parallel procps curl
"

missing=""
for p in $PACKAGES; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing="$missing $p"
  fi
done

# Debian's nodejs ships npm separately; other builds of nodejs include it.
command -v npm >/dev/null 2>&1 || missing="$missing npm"

if [ -z "$missing" ]; then
  echo "install-deps: all packages present"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1; then
  SUDO="sudo"
else
  echo "install-deps: need root (or sudo) to install:$missing" >&2
  exit 1
fi

echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
