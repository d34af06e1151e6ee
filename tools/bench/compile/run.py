#!/usr/bin/env python3
"""The compile benchmark: a bare parse of the files by LLVM's YAML parser
(the one pipec's reader uses) vs `pipec check` vs `pipec compile --emit=ir`
on generated pipelines of 1,000 and 10,000 steps, with yaml-cpp loading the
same files for reference.

Every measurement is the fastest CPU time (user + sys; wall time alongside)
of --repeat rounds (each round runs every size and tool once) of a whole
process on the same two files (pipeline.yaml and component.yaml):
bench_yaml_walk walks every node of both with llvm::yaml, bench_yaml_load
YAML::LoadFile's both, and pipec reads exactly those two.

Usage: run.py [--build DIR] [--repeat N] [--sizes 1000,10000]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))


def run_once(cmd, cwd):
    """CPU time (user + sys) and wall time of one run of a whole process."""
    start = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    err = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(cmd)} failed ({status}):\n{err[-2000:]}")
    return usage.ru_utime + usage.ru_stime, wall


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--sizes", default="1000,10000")
    args = ap.parse_args()
    pipec = os.path.join(args.build, "pipec")
    bench_dir = os.path.join(args.build, "tools", "bench", "compile")
    yaml_walk = os.path.join(bench_dir, "bench_yaml_walk")
    yaml_load = os.path.join(bench_dir, "bench_yaml_load")
    for tool in (pipec, yaml_walk, yaml_load):
        if not os.access(tool, os.X_OK):
            sys.exit(f"{tool} is missing: build with scripts/build.sh first")
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = {}
    with tempfile.TemporaryDirectory(prefix="pipec-bench-") as tmp:
        cmds = {}
        for n in sizes:
            d = os.path.join(tmp, str(n))
            subprocess.run([sys.executable, os.path.join(HERE, "generate.py"), str(n), d],
                           check=True)
            files = ["pipeline.yaml", "component.yaml"]
            rows[n] = {"bytes": sum(os.path.getsize(os.path.join(d, f)) for f in files)}
            cmds[n] = (d, {"parse": [yaml_walk] + files,
                           "yaml": [yaml_load] + files,
                           "check": [pipec, "check", "pipeline.yaml"],
                           "ir": [pipec, "compile", "--emit=ir", "pipeline.yaml"]})
        # Rounds of every size and tool one after the other, so that a slow
        # spell of the machine hits all of them alike; the fastest run of each.
        for _ in range(args.repeat):
            for n in sizes:
                d, tools = cmds[n]
                for k, cmd in tools.items():
                    cpu, wall = run_once(cmd, d)
                    old = rows[n].get(k, (cpu, wall))
                    rows[n][k] = (min(cpu, old[0]), min(wall, old[1]))
    load = os.getloadavg()
    print(f"fastest of {args.repeat} interleaved rounds; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print("CPU seconds (user + sys), wall seconds in parentheses; parse = LLVM's YAML")
    print("parser walking every node (pipec's floor), yaml-cpp = YAML::LoadFile")
    print(f"{'steps':>6} {'MB':>5} {'parse':>16} {'yaml-cpp':>16} {'check':>16} {'ir':>16} "
          f"{'check/parse':>11} {'ir/parse':>8}")
    for n, r in rows.items():
        cells = " ".join(f"{r[k][0]:>7.3f} ({r[k][1]:>6.3f})"
                         for k in ("parse", "yaml", "check", "ir"))
        print(f"{n:>6} {r['bytes'] / 1e6:>5.1f} {cells} "
              f"{r['check'][0] / r['parse'][0]:>11.2f} {r['ir'][0] / r['parse'][0]:>8.2f}")
    big = rows[sizes[-1]]
    ratio = big["check"][0] / big["parse"][0]
    print(f"check / parse at {sizes[-1]} steps: {ratio:.2f} (bar: 3.00)")
    ok = ratio <= 3
    if len(sizes) >= 2:
        small = rows[sizes[0]]
        scale = sizes[-1] / sizes[0]
        growth = big["check"][0] / small["check"][0]
        print(f"{sizes[-1]}/{sizes[0]} CPU time ratio (x{scale:g} steps): "
              f"parse {big['parse'][0] / small['parse'][0]:.1f}, "
              f"yaml-cpp {big['yaml'][0] / small['yaml'][0]:.1f}, "
              f"check {growth:.1f}, ir {big['ir'][0] / small['ir'][0]:.1f}")
        ok = ok and growth <= 12
    print("bars (check <= 3x parse at the largest size, check ratio <= 12):",
          "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
