#!/bin/sh
# Regenerates the goldens of test/AzureML (Golden/) with the pipec of a
# build; review the diff before committing it. Each example is copied to a
# scratch folder first, so the relative paths in the goldens do not depend
# on where the repository or the build is.
#   test/AzureML/update-goldens.sh [BUILD_DIR]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
pipec=${1:-$root/build}/pipec
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
gen() {  # golden-name example file [dir]
  rm -rf "$tmp/in" "$tmp/out"
  mkdir -p "$tmp/out"
  cp -r "$root/examples/$2" "$tmp/in"
  if [ "${4:-}" = dir ]; then
    "$pipec" compile --target azureml "$tmp/in/$3" -o "$tmp/out/" 2>/dev/null
    rm -rf "$here/Golden/$1"
    cp -r "$tmp/out" "$here/Golden/$1"
  else
    "$pipec" compile --target azureml "$tmp/in/$3" -o "$tmp/out/pipeline.yml" 2>/dev/null
    cp "$tmp/out/pipeline.yml" "$here/Golden/$1.yml"
  fi
  echo "wrote test/AzureML/Golden/$1"
}
gen basic basic pipeline.yaml
gen basic-dir basic pipeline.yaml dir
gen parallel parallel pipeline.yaml
gen parallel-dir parallel pipeline.yaml dir
