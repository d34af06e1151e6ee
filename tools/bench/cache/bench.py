#!/usr/bin/env python3
"""Benchmark of the step cache of `pipec run` (not a test).

usage: bench.py [--build DIR] [--steps N] [--reps R] [--gigabytes G]
                [--files F] [--workdir DIR]

1. A pipeline of N steps (one step, then N-1 steps that each read its
   output and write a small file) is run once to fill the cache; then a
   run with every step cached is timed against `pipec run --dry-run` of the
   same pipeline (which plans and lays out every step and starts nothing).
   The bar: cached <= 2x dry run.
2. An input folder of G GB in F files is bound to a one-step pipeline: the
   first run reads every byte to compute the key; a second run, with the
   input unchanged, only stats each file. pipec --verbose prints its stat
   calls, files read and bytes read; both runs' numbers are shown.
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ap = argparse.ArgumentParser()
ap.add_argument("--build", default=os.path.join(os.path.dirname(__file__), "../../../build"))
ap.add_argument("--steps", type=int, default=1000)
ap.add_argument("--reps", type=int, default=5)
ap.add_argument("--gigabytes", type=float, default=1.0)
ap.add_argument("--files", type=int, default=256)
ap.add_argument("--workdir", default=tempfile.gettempdir())
args = ap.parse_args()
pipec = os.path.join(os.path.abspath(args.build), "pipec")
if not os.access(pipec, os.X_OK):
    sys.exit(f"bench: build {pipec} first (scripts/build.sh)")
work = tempfile.mkdtemp(prefix="pipec-cache-bench-", dir=args.workdir)


def run(argv, check=True):
    t0 = time.perf_counter()
    p = subprocess.run([pipec, "run"] + argv, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    dt = time.perf_counter() - t0
    if check and p.returncode != 0:
        sys.exit(f"bench: pipec run {' '.join(argv)} failed:\n{p.stderr}")
    return dt, p.stdout


def median_time(argv):
    return statistics.median(run(argv)[0] for _ in range(args.reps))


try:
    # --- 1. N steps, all cached, against a dry run ---------------------------
    n = args.steps
    lines = ["type: pipeline", "jobs:",
             "  s0:", "    type: command",
             "    command: echo 0 > ${{outputs.out}}/x", "    outputs: {out: }"]
    for i in range(1, n):
        lines += [f"  s{i}:", "    type: command",
                  f"    command: cat ${{{{inputs.in}}}}/x > ${{{{outputs.out}}}}/x",
                  "    inputs: {in: \"${{parent.jobs.s0.outputs.out}}\"}",
                  "    outputs: {out: }"]
    wide = os.path.join(work, "wide.yaml")
    with open(wide, "w") as f:
        f.write("\n".join(lines) + "\n")
    wd = os.path.join(work, "w")
    fill, _ = run([wide, "--workdir", wd, "-q"])
    cached_out = run([wide, "--workdir", wd])[1]
    if f"run " not in cached_out or f": {n} cached" not in cached_out:
        sys.exit("bench: the second run was not entirely cached:\n" +
                 cached_out[-2000:])
    cached = median_time([wide, "--workdir", wd, "-q"])
    dry = median_time([wide, "--workdir", wd, "-q", "--dry-run"])
    print(f"{n} steps: first run {fill:.2f}s; all cached {cached:.3f}s, "
          f"dry run {dry:.3f}s (median of {args.reps}): "
          f"{cached / dry:.2f}x the dry run (bar: <= 2x)")

    # --- 2. re-checking an unchanged input ----------------------------------
    data = os.path.join(work, "data")
    os.makedirs(data)
    size = int(args.gigabytes * (1 << 30) / args.files)
    block = os.urandom(1 << 20)
    for i in range(args.files):
        with open(os.path.join(data, f"part-{i:05d}.bin"), "wb") as f:
            left = size
            while left > 0:
                f.write(block[:min(left, len(block))])
                left -= len(block)
    # Records taken in the second a file changed are not trusted.
    time.sleep(1.1)
    one = os.path.join(work, "one.yaml")
    with open(one, "w") as f:
        f.write("type: pipeline\ninputs:\n  data: {type: uri_folder}\njobs:\n"
                "  count:\n    type: command\n"
                "    command: ls ${{inputs.data}} | wc -l > ${{outputs.out}}/n\n"
                "    inputs: {data: \"${{parent.inputs.data}}\"}\n"
                "    outputs: {out: }\n")
    wd2 = os.path.join(work, "w2")
    argv = [one, "--workdir", wd2, "--input", "data=" + data, "--verbose"]
    for label in ("first run (reads the input)", "unchanged input (stats it)"):
        dt, out = run(argv)
        m = re.search(r"cache keys: (\d+) stat call\(s\), (\d+) file\(s\) "
                      r"read \((\d+) bytes\)", out)
        print(f"{args.gigabytes:g} GB in {args.files} files, {label}: "
              f"{dt:.3f}s, {m.group(1)} stat calls, {m.group(2)} files read, "
              f"{int(m.group(3)) / (1 << 20):.0f} MiB read")
finally:
    shutil.rmtree(work, ignore_errors=True)
