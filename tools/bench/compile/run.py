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

With --target k8s: `pipec compile --target k8s` against `pipec check` on
the 10,000-step pipeline (bar: emitting, the difference, at most 0.5x the
check), the size of the Workflow for the 1,000-step pipeline (bar: under
1 MiB) and the manifests of a parallel step over 1,000,000 files and over
10 files (bar: the same bytes).

With --target sh (or azureml), also `pipec compile --target sh` (the
script of every step; the Azure ML pipeline job) on the largest size: what
writing the target adds to checking, at most 0.5x the check time.

With --target all: `pipec check`, `pipec compile --target k8s` and
`pipec compile --target sh` on the 10,000-step pipeline in interleaved
rounds, each target's time and what it adds to the check as a fraction of
the check time (bar: at most 0.5 for each, the k8s and sh verdicts
printed apart from azureml's).

Usage: run.py [--build DIR] [--repeat N] [--sizes 1000,10000]
              [--target k8s|sh|azureml|all]
"""
import argparse
import os
import shutil
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


def fastest(cmds, cwd, repeat):
    """The fastest CPU and wall time of each command over `repeat`
    interleaved rounds (each round runs every command once, so a slow spell
    of a shared machine hits them alike)."""
    best = {}
    for _ in range(repeat):
        for k, cmd in cmds.items():
            cpu, wall = run_once(cmd, cwd)
            old = best.get(k, (cpu, wall))
            best[k] = (min(cpu, old[0]), min(wall, old[1]))
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--sizes", default="1000,10000")
    ap.add_argument("--target", choices=["k8s", "sh", "azureml", "all"],
                    help="also time pipec compile --target TARGET (all: "
                    "check, k8s and sh side by side)")
    args = ap.parse_args()
    pipec = os.path.join(args.build, "pipec")
    if args.target == "k8s":
        return bench_k8s(pipec, args.repeat)
    if args.target == "all":
        return bench_targets(pipec, args.repeat)
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
            if args.target and n == sizes[-1]:
                cmds[n][1]["target"] = [pipec, "compile", "--target",
                                        args.target, "pipeline.yaml"]
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
    if args.target:
        extra = (big["target"][0] - big["check"][0]) / big["check"][0]
        print(f"compile --target {args.target} at {sizes[-1]} steps: "
              f"{big['target'][0]:.3f} s CPU ({big['target'][1]:.3f} wall) "
              f"vs check {big['check'][0]:.3f} s: the target adds "
              f"{extra:.2f}x the check time (bar: 0.50)")
        ok = ok and extra <= 0.5
    print("bars (check <= 3x parse at the largest size, check ratio <= 12"
          + (", target adds <= 0.5x check" if args.target else "") + "):",
          "met" if ok else "NOT met")
    return 0 if ok else 1


def bench_targets(pipec, repeat, steps=10000):
    """check and compile --target k8s, sh and azureml on one pipeline,
    interleaved; each target's CPU time beside the check's."""
    if not os.access(pipec, os.X_OK):
        sys.exit(f"{pipec} is missing: build with scripts/build.sh first")
    with tempfile.TemporaryDirectory(prefix="pipec-bench-targets-") as tmp:
        d = os.path.join(tmp, str(steps))
        subprocess.run([sys.executable, os.path.join(HERE, "generate.py"),
                        str(steps), d], check=True)
        cmds = {"check": [pipec, "check", "pipeline.yaml"]}
        for t in ("k8s", "sh", "azureml"):
            cmds[t] = [pipec, "compile", "--target", t, "pipeline.yaml",
                       "-o", os.path.join(tmp, "out." + t)]
        best = fastest(cmds, d, repeat)
        sizes = {t: os.path.getsize(os.path.join(tmp, "out." + t))
                 for t in ("k8s", "sh", "azureml")}
    load = os.getloadavg()
    check = best["check"][0]
    print(f"{steps} steps, fastest of {repeat} interleaved rounds; load "
          f"average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"{'':>16} {'CPU s':>8} {'wall s':>8} {'x check':>8} "
          f"{'adds':>6} {'MB out':>7}")
    print(f"{'check':>16} {check:>8.3f} {best['check'][1]:>8.3f} "
          f"{1:>8.2f} {'':>6} {'':>7}")
    ok = True
    azure_ok = True
    for t in ("k8s", "sh", "azureml"):
        cpu, wall = best[t]
        extra = (cpu - check) / check
        # k8s and sh: the issues' bar; azureml: this benchmark's own.
        if t == "azureml":
            azure_ok = extra <= 0.5
        else:
            ok = ok and extra <= 0.5
        print(f"{'--target ' + t:>16} {cpu:>8.3f} {wall:>8.3f} "
              f"{cpu / check:>8.2f} {extra:>6.2f} {sizes[t] / 1e6:>7.1f}")
    print("adds = (target - check) / check, CPU time; bar: at most 0.50. "
          "k8s and sh:", "met" if ok else "NOT met", "| azureml:",
          "met" if azure_ok else "NOT met")
    ok = ok and azure_ok
    return 0 if ok else 1


def workflow_bytes(manifests):
    """The bytes of the Workflow document of multi-document YAML."""
    docs = manifests.split("\n---\n")
    return sum(len(d) for d in docs if 'kind: "Workflow"' in d)


PARALLEL = """type: pipeline
name: wide
inputs:
  files: {type: uri_folder, path: ./files}
jobs:
  each:
    type: parallel
    inputs: {data: "${{parent.inputs.files}}"}
    outputs: {out: {type: uri_file}}
    input_data: ${{inputs.data}}
    mini_batch_size: "10"
    resources: {instance_count: 4}
    task:
      entry_script: score.py
      append_row_to: ${{outputs.out}}
"""


def bench_k8s(pipec, repeat):
    ok = True
    with tempfile.TemporaryDirectory(prefix="pipec-bench-k8s-") as tmp:
        dirs = {}
        for n in (1000, 10000):
            dirs[n] = os.path.join(tmp, str(n))
            subprocess.run([sys.executable, os.path.join(HERE, "generate.py"),
                            str(n), dirs[n]], check=True)
        d = dirs[10000]
        cmds = {"check": [pipec, "check", "pipeline.yaml"],
                "k8s": [pipec, "compile", "--target", "k8s", "pipeline.yaml",
                        "-o", os.path.join(tmp, "10000.yaml")]}
        best = fastest(cmds, d, repeat)
        emit = best["k8s"][0] - best["check"][0]
        ratio = emit / best["check"][0]
        print(f"10000 steps, fastest of {repeat}: check {best['check'][0]:.3f} s "
              f"CPU, compile --target k8s {best['k8s'][0]:.3f} s; emitting "
              f"{emit:.3f} s = {ratio:.2f}x check (bar: 0.50)")
        ok = ok and ratio <= 0.5
        out = os.path.join(tmp, "1000.yaml")
        subprocess.run([pipec, "compile", "--target", "k8s", "pipeline.yaml",
                        "-o", out], cwd=dirs[1000], check=True,
                       stderr=subprocess.DEVNULL)
        with open(out) as fh:
            wf = workflow_bytes(fh.read())
        print(f"1000-step pipeline of one component: Workflow {wf} bytes "
              f"({wf / 1048576:.3f} MiB; bar: under 1 MiB)")
        ok = ok and wf < 1048576
        texts = {}
        for files in (10, 1000000):
            w = os.path.join(tmp, f"wide{files}")
            os.makedirs(os.path.join(w, "files"))
            with open(os.path.join(w, "pipeline.yaml"), "w") as fh:
                fh.write(PARALLEL)
            for i in range(files):
                os.close(os.open(os.path.join(w, "files", f"{i:07d}"),
                                 os.O_CREAT | os.O_WRONLY, 0o644))
            r = subprocess.run([pipec, "compile", "--target", "k8s",
                                "pipeline.yaml"], cwd=w, check=True,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            texts[files] = r.stdout
            shutil.rmtree(os.path.join(w, "files"))
            print(f"parallel step over {files} files: manifests "
                  f"{len(r.stdout)} bytes, Workflow "
                  f"{workflow_bytes(r.stdout.decode())} bytes")
        same = texts[10] == texts[1000000]
        print("1,000,000 files vs 10 files:", "the same bytes" if same
              else "DIFFERENT")
        ok = ok and same
    print("bars:", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
