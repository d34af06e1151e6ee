#!/bin/sh
# Regenerates the goldens of test/K8s (Golden/*.yaml) with the pipec of a
# build; review the diff before committing it.
#   test/K8s/update-goldens.sh [BUILD_DIR]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
pipec=${1:-$root/build}/pipec
gen() {  # golden-name input-file [option...]
  name=$1 input=$2
  shift 2
  "$pipec" compile --target k8s "$input" "$@" -o "$here/Golden/$name.yaml" 2>/dev/null
  echo "wrote test/K8s/Golden/$name.yaml"
}
for t in command tensorflow pytorch xgboost elasticbatch mixed artifacts mpi; do
  gen "$t" "$here/Inputs/$t.yaml"
done
gen mpi-single "$here/Inputs/mpi.yaml" --single --job ranks
gen parallel "$root/examples/parallel/pipeline.yaml"
gen basic "$root/examples/basic/pipeline.yaml"
