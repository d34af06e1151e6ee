#!/bin/sh
# Configures (once) and builds pipec into build/ with Ninja and ccache.
set -eu
cd "$(dirname "$0")/.."
BUILD_DIR=${PIPEC_BUILD_DIR:-build}
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
cmake --build "$BUILD_DIR"
