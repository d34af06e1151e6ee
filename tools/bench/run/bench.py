#!/usr/bin/env python3
"""Benchmark of `pipec run` against the process-spawn floor, make -j and
xargs -P, on the same machine in the same run (not a test).

usage: bench.py [--build DIR] [--steps N] [--jobs J] [--reps R] [--workdir DIR]
                [--only REGEX]

Workloads, each N trivial commands (`true`) with J in flight:
  wide:  one step, then N-1 steps that each read its output
  chain: N steps, each reading the output of the one before
pipec lays out every step (folders, config files, input links, log) and
starts `true` directly; "sh" variants have commands that need sh -c.
"floor + layout" is the floor program making the same layout per task with
bare system calls: the floor of any scheduler that makes RUNTIME.md's run
layout.
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
ap.add_argument("--jobs", type=int, default=2)
ap.add_argument("--reps", type=int, default=5)
ap.add_argument("--workdir", default=tempfile.gettempdir(),
                help="where the runs go (its file system matters: see README)")
ap.add_argument("--only", default="",
                help="time only the variants whose name matches this regular "
                "expression (the floors are always timed)")
args = ap.parse_args()
build = os.path.abspath(args.build)
pipec = os.path.join(build, "pipec")
floor = os.path.join(build, "bench", "pipec_spawn_floor")
for exe in (pipec, floor):
    if not os.access(exe, os.X_OK):
        sys.exit(f"bench: build {exe} first (scripts/build.sh)")
n, jobs = args.steps, args.jobs
work = tempfile.mkdtemp(prefix="pipec-bench-", dir=args.workdir)
runs = 0


def write(name, text):
    with open(os.path.join(work, name), "w") as f:
        f.write(text)


def component(name, command):
    write(name, f"""name: {name[:-5]}
version: 1.0.0
command: {command}
inputs:
  in: {{type: folder, optional: true}}
outputs:
  out: {{type: folder}}
""")


component("noop.yaml", '"true"')
component("noop-sh.yaml", '"true $PAI_USER_ARGS"')


def pipeline(name, comp, shape):
    lines = ["type: pipeline", "jobs:"]
    for i in range(n):
        lines += [f"  s{i}:", f"    component: ./{comp}"]
        src = None if i == 0 else (0 if shape == "wide" else i - 1)
        if src is not None:
            lines += ["    inputs:", f"      in: ${{{{parent.jobs.s{src}.outputs.out}}}}"]
    write(name, "\n".join(lines) + "\n")


pipeline("wide.yaml", "noop.yaml", "wide")
pipeline("wide-sh.yaml", "noop-sh.yaml", "wide")
pipeline("chain.yaml", "noop.yaml", "chain")
write("one.yaml", 'name: one\nversion: 1.0.0\ncommand: "true"\n')


def makefile(name, shape):
    lines = [f"all: s{n - 1}" if shape == "chain" else "all: " + " ".join(f"s{i}" for i in range(1, n))]
    for i in range(n):
        dep = "" if i == 0 else (" s0" if shape == "wide" else f" s{i - 1}")
        lines.append(f"s{i}:{dep}\n\t@true")
    lines.append(".PHONY: all " + " ".join(f"s{i}" for i in range(n)))
    write(name, "\n".join(lines) + "\n")


makefile("wide.mk", "wide")
makefile("chain.mk", "chain")


def layout_makefile(name):
    # The wide DAG again, each recipe also making what pipec makes for a
    # step: its folders, config files, input link and log.
    lines = ["all: " + " ".join(f"s{i}" for i in range(1, n))]
    for i in range(n):
        d = f"l/s{i}"
        link = "" if i == 0 else (
            f" && ln -s ../../../../s0/ml/output/out {d}/ml/input/data/in")
        dirs = " ".join(f"{d}/{x}" for x in ("logs", "ml/usercode", "ml/input/config",
                                            "ml/input/data", "ml/output/out"))
        lines.append(
            f"s{i}:{'' if i == 0 else ' s0'}\n"
            f"\t@mkdir -p {dirs} && echo '{{}}' > {d}/ml/input/config/hyperparameters.json"
            f" && echo '{{\"name\": \"s{i}\"}}' > {d}/ml/input/config/training_job.json"
            f"{link} && cd {d}/ml/usercode && true > ../../logs/main.log 2>&1")
    lines.append(".PHONY: all " + " ".join(f"s{i}" for i in range(n)))
    write(name, "\n".join(lines) + "\n")


layout_makefile("wide-layout.mk")


def run(cmd, input=None, cwd=None):
    """Wall time and CPU time (user + system, the whole process tree)."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd() if callable(cmd) else cmd, cwd=cwd,
                         stdin=subprocess.PIPE if input else None,
                         stdout=subprocess.DEVNULL)
    if input:
        p.stdin.write(input)
        p.stdin.close()
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit(f"bench: {cmd} failed")
    return wall, usage.ru_utime + usage.ru_stime


def pipec_run(yaml, *extra):
    # Runs are removed only at the end: deleting thousands of folders just
    # before creating thousands more is slow on some file systems and would
    # be charged to the next run.
    def cmd():
        global runs
        runs += 1
        return [pipec, "run", "-q", "-w", "--jobs", str(jobs), *extra,
                "--workdir", os.path.join(work, "w"), "--run-id", f"r{runs}",
                os.path.join(work, yaml)]
    return cmd


LF = "floor + layout: posix_spawn true"


def layout_floor():
    global runs
    runs += 1
    d = os.path.join(work, f"lf{runs}")
    os.mkdir(d)
    return [floor, "--layout", d, str(n), str(jobs), "true"]


seq = ("\n".join(str(i) for i in range(n)) + "\n").encode()
variants = [
    ("floor: posix_spawn true", [floor, str(n), str(jobs), "true"], {}),
    (LF, layout_floor, {}),
    ("floor: posix_spawn sh -c true",
     [floor, str(n), str(jobs), "sh", "-c", "true"], {}),
    (f"xargs -P{jobs} -n1 true", ["xargs", f"-P{jobs}", "-n1", "true"],
     {"input": seq}),
    (f"make -j{jobs}, wide", ["make", "-s", f"-j{jobs}", "-f", "wide.mk"],
     {"cwd": work}),
    (f"make -j{jobs}, chain", ["make", "-s", f"-j{jobs}", "-f", "chain.mk"],
     {"cwd": work}),
    (f"make -j{jobs}, wide, with the layout",
     lambda: ["sh", "-c", f"rm -rf l && make -s -j{jobs} -f wide-layout.mk"],
     {"cwd": work}),
    ("pipec run, wide", pipec_run("wide.yaml"), {}),
    ("pipec run, wide, sh -c", pipec_run("wide-sh.yaml"), {}),
    ("pipec run, chain", pipec_run("chain.yaml"), {}),
    ("pipec check (compile only), wide", [pipec, "check", "-w", os.path.join(work, "wide.yaml")], {}),
    ("pipec run --dry-run (+ layout), wide", pipec_run("wide.yaml", "--dry-run"), {}),
]

if args.only:
    variants = [v for v in variants
                if v[0].startswith("floor") or re.search(args.only, v[0])]
print(f"pipec run benchmark: {n} steps, {jobs} in flight, median of {args.reps}")
fs = subprocess.run(["stat", "-f", "-c", "%T", work], capture_output=True,
                    text=True).stdout.strip()
print(f"runs in {work} ({fs}); cores: {os.cpu_count()}; "
      f"load average before: {os.getloadavg()[0]:.2f}")
times = {name: [] for name, _, _ in variants}
cpu = {name: [] for name, _, _ in variants}
# Interleaved, so that a change of load hits every variant alike.
for _ in range(args.reps):
    for name, cmd, kw in variants:
        wall, used = run(cmd, **kw)
        times[name].append(wall)
        cpu[name].append(used)


def each(cmd, count=30):
    out = subprocess.run([floor, "--each", str(count), *cmd], check=True,
                         capture_output=True, text=True).stdout
    return float(out)


runs += 1
one = [pipec, "run", "-q", "--workdir", os.path.join(work, "w1"),
       os.path.join(work, "one.yaml")]
startup = {"true": each(["true"]), "pipec --version": each([pipec, "--version"]),
           "pipec run, one step": each(one)}
print(f"load average after: {os.getloadavg()[0]:.2f}")
print()
floor_t = statistics.median(times[variants[0][0]])
floor_c = statistics.median(cpu[variants[0][0]])
print(f"{'':40}{'wall':>8}{'per step':>10}{'vs floor':>10}"
      f"{'cpu':>8}{'per step':>10}{'vs floor':>10}")
for name, _, _ in variants:
    t, c = statistics.median(times[name]), statistics.median(cpu[name])
    print(f"{name:40}{t:7.3f}s{t / n * 1e6:8.0f}µs{t / floor_t:9.2f}x"
          f"{c:7.3f}s{c / n * 1e6:8.0f}µs{c / floor_c:9.2f}x")


def ratio(a, b, what):
    return (statistics.median(what[a]) / statistics.median(what[b]))


print()
print("wall: time on the clock; cpu: user + system time of the whole process")
print("tree, which the machine's other load does not inflate as much.")
for what, label in ((times, "wall"), (cpu, "cpu")):
    if "pipec run, wide" not in what or f"make -j{jobs}, wide" not in what:
        break
    print(f"{label:4}: pipec run, wide / make -j{jobs}, wide = "
          f"{ratio('pipec run, wide', f'make -j{jobs}, wide', what):.2f}x "
          f"(bar <= 1.00x); / floor = "
          f"{ratio('pipec run, wide', variants[0][0], what):.2f}x (bar <= 1.50x)")
    if LF in what:
        print(f"      floor + layout / make -j{jobs}, wide = "
              f"{ratio(LF, f'make -j{jobs}, wide', what):.2f}x; "
              f"pipec run, wide / floor + layout = "
              f"{ratio('pipec run, wide', LF, what):.2f}x")
print("start-up (median of 30, one after the other): " +
      ", ".join(f"{k} {v * 1000:.1f} ms" for k, v in startup.items()) +
      " (bar: pipec run < 10 ms)")
shutil.rmtree(work, ignore_errors=True)
