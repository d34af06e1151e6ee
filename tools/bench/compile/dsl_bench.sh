#!/bin/sh
# Times `pipec check` on the same N-step pipeline written as YAML and as a
# .pipe file, and prints the ratio. Not a test: run it by hand on a quiet
# machine.
#
# Usage: tools/bench/compile/dsl_bench.sh [PIPEC] [STEPS] [REPEATS]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
pipec=${1:-$here/../../../build/pipec}
steps=${2:-10000}
repeats=${3:-5}
python=${PYTHON:-/usr/bin/python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$python" "$here/gen_dsl_pipeline.py" "$steps" "$work"
# Both forms must mean the same pipeline.
"$pipec" compile --emit=ir "$work/pipeline.yaml" > "$work/yaml.json"
"$pipec" compile --emit=ir "$work/pipeline.pipe" > "$work/pipe.json"
if ! cmp -s "$work/yaml.json" "$work/pipe.json"; then
  echo "dsl_bench: the two forms compile to different IR" >&2
  exit 1
fi

# The best of REPEATS wall-clock runs, in milliseconds.
best_ms() {
  "$python" - "$repeats" "$@" <<'PY'
import subprocess, sys, time
repeats, cmd = int(sys.argv[1]), sys.argv[2:]
best = None
for _ in range(repeats):
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    ms = (time.perf_counter() - t) * 1000
    best = ms if best is None else min(best, ms)
print(f"{best:.1f}")
PY
}

echo "load: $(uptime)"
echo "steps: $steps, best of $repeats runs of 'pipec check'"
echo "sizes: yaml $(wc -c < "$work/pipeline.yaml") bytes, pipe $(wc -c < "$work/pipeline.pipe") bytes"
yaml=$(best_ms "$pipec" check "$work/pipeline.yaml")
pipe=$(best_ms "$pipec" check "$work/pipeline.pipe")
echo "yaml: $yaml ms"
echo "pipe: $pipe ms"
"$python" -c "import sys; r = float(sys.argv[2]) / float(sys.argv[1]); print(f'ratio pipe/yaml: {r:.2f} (limit 1.50)'); sys.exit(0 if r <= 1.5 else 1)" "$yaml" "$pipe"
