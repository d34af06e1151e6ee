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

# The best of REPEATS runs: wall-clock and CPU (user + system) time in ms.
# CPU time is the steadier figure on a shared machine.
best_ms() {
  "$python" - "$repeats" "$@" <<'PY'
import resource, subprocess, sys, time
repeats, cmd = int(sys.argv[1]), sys.argv[2:]
wall = cpu = None
for _ in range(repeats):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    w = (time.perf_counter() - t) * 1000
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    c = ((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)) * 1000
    wall = w if wall is None else min(wall, w)
    cpu = c if cpu is None else min(cpu, c)
print(f"{wall:.1f} {cpu:.1f}")
PY
}

echo "load: $(uptime)"
echo "steps: $steps, best of $repeats runs of 'pipec check'"
echo "sizes: yaml $(wc -c < "$work/pipeline.yaml") bytes, pipe $(wc -c < "$work/pipeline.pipe") bytes"
yaml=$(best_ms "$pipec" check "$work/pipeline.yaml")
pipe=$(best_ms "$pipec" check "$work/pipeline.pipe")
# Each holds two numbers (wall, cpu): split them on purpose.
# shellcheck disable=SC2086
"$python" - $yaml $pipe <<'PY'
import sys
yw, yc, pw, pc = map(float, sys.argv[1:])
print(f"yaml: {yw:.1f} ms wall, {yc:.1f} ms cpu")
print(f"pipe: {pw:.1f} ms wall, {pc:.1f} ms cpu")
print(f"ratio pipe/yaml: {pw / yw:.2f} wall, {pc / yc:.2f} cpu (limit 1.50)")
sys.exit(0 if pc / yc <= 1.5 else 1)
PY
