#!/bin/sh
# Configures (once) and builds pipec into build/ with Ninja and ccache;
# warnings are errors, so the tree stays warning-free.
set -eu
cd "$(dirname "$0")/.."
BUILD_DIR=${PIPEC_BUILD_DIR:-build}
if [ ! -f "$BUILD_DIR/build.ninja" ] ||
  ! grep -q '^PIPEC_WERROR:BOOL=ON' "$BUILD_DIR/CMakeCache.txt"; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPIPEC_WERROR=ON
fi
cmake --build "$BUILD_DIR"
