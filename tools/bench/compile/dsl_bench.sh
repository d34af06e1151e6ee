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

echo "load: $(uptime)"
echo "steps: $steps, best of $repeats interleaved rounds of 'pipec check'"
echo "sizes: yaml $(wc -c < "$work/pipeline.yaml") bytes, pipe $(wc -c < "$work/pipeline.pipe") bytes"
# Rounds of the YAML form then the .pipe form, so that a slow spell of the
# machine hits both alike; the best wall-clock and CPU (user + system) time
# of each. CPU time is the steadier figure on a shared machine.
"$python" - "$repeats" "$pipec" "$work/pipeline.yaml" "$work/pipeline.pipe" <<'PY'
import resource, subprocess, sys, time
repeats, pipec, files = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
best = {f: [None, None] for f in files}
for _ in range(repeats):
    for f in files:
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run([pipec, "check", f], check=True, stdout=subprocess.DEVNULL)
        w = (time.perf_counter() - t) * 1000
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        c = ((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)) * 1000
        b = best[f]
        b[0] = w if b[0] is None else min(b[0], w)
        b[1] = c if b[1] is None else min(b[1], c)
(yw, yc), (pw, pc) = best[files[0]], best[files[1]]
print(f"yaml: {yw:.1f} ms wall, {yc:.1f} ms cpu")
print(f"pipe: {pw:.1f} ms wall, {pc:.1f} ms cpu")
print(f"ratio pipe/yaml: {pw / yw:.2f} wall, {pc / yc:.2f} cpu (limit 1.50)")
sys.exit(0 if pc / yc <= 1.5 else 1)
PY
