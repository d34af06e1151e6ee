#!/bin/sh
# Regenerates the goldens of test/K8s (Golden/*.yaml) with the pipec of a
# build; review the diff before committing it.
#   test/K8s/update-goldens.sh [BUILD_DIR]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
pipec=${1:-$root/build}/pipec
gen() {  # golden-name input-file
  "$pipec" compile --target k8s "$2" -o "$here/Golden/$1.yaml" 2>/dev/null
  echo "wrote test/K8s/Golden/$1.yaml"
}
for t in command tensorflow pytorch xgboost elasticbatch mixed artifacts; do
  gen "$t" "$here/Inputs/$t.yaml"
done
gen parallel "$root/examples/parallel/pipeline.yaml"
gen basic "$root/examples/basic/pipeline.yaml"
