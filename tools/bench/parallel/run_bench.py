#!/usr/bin/env python3
"""Dispatch overhead of pipec's parallel steps (a benchmark, not a test).

For N mini-batches of one file each and a run() that returns its input, with
2 workers, measures in one run, interleaved and repeated (median wall time,
each from process start to the last row written):
  floor-16, floor-1  tools/bench/parallel/floor.cpp: a minimal C++ driver
                     feeding 2 persistent Python workers through pipes, 16 or 1
                     mini-batches in flight per worker
  pipec              `pipec internal-parallel-step` on the same folder
                     (journal, append_row_to, logs included)
  pool               multiprocessing.Pool(2).imap (chunksize 1, the default)
  parallel, xargs    GNU Parallel -j2 and xargs -P2 starting one python3 per
                     mini-batch, on M mini-batches, scaled to N
and the splitting of the folder into mini-batches alone against
`find DIR -type f`.

  run_bench.py [--build BUILD] [--work DIR] [--n 100000] [--m 2000]
               [--repeat 3] [--python /usr/bin/python3]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))


def wall(cmd, **kw):
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=kw.pop("stdout", subprocess.DEVNULL),
                   stderr=subprocess.DEVNULL, **kw)
    return time.perf_counter() - t0


def make_files(d, n):
    if os.path.isdir(d) and len(os.listdir(d)) == n:
        return
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for i in range(n):
        with open(os.path.join(d, "item%06d" % i), "w") as f:
            f.write("%d\n" % i)


def pipec_spec(work, data, python, n_out):
    spec = {
        "step_name": "bench", "location": "bench", "python": python,
        "code_dir": HERE, "entry_script": "identity_entry.py",
        "program_arguments": [], "input_path": data, "input_type": "folder",
        "settings": {"batch_by": "count", "mini_batch_size": 1,
                     "max_concurrency_per_instance": 2, "max_retries": 3,
                     "timeout_ms": 60000, "logging_level": "INFO",
                     "task_overhead_timeout_ms": 30000,
                     "first_task_creation_timeout_ms": 600000,
                     "resource_monitor_interval_ms": 0,
                     "mini_batch_error_threshold": -1, "error_threshold": -1,
                     "allowed_failed_percent": 100, "partition_keys": []},
        "instance_count": 1, "append_row_to": n_out, "env": {},
        "logs_dir": os.path.join(work, "logs"),
        "state_dir": os.path.join(work, "state"), "resume": False}
    path = os.path.join(work, "spec.json")
    os.makedirs(work, exist_ok=True)
    with open(path, "w") as f:
        json.dump(spec, f)
    return path


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--work", default="/tmp/pipec-bench-parallel")
    p.add_argument("--n", type=int, default=100000)
    p.add_argument("--m", type=int, default=2000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--python", default="/usr/bin/python3")
    p.add_argument("--quick", action="store_true",
                   help="only the floor (16 in flight) and pipec")
    a = p.parse_args()

    pipec = os.path.join(a.build, "pipec")
    floor = os.path.join(a.build, "tools", "bench", "parallel", "parallel_floor")
    enum = os.path.join(a.build, "tools", "bench", "parallel",
                        "parallel_enumerate")
    data = os.path.join(a.work, "data")
    small = os.path.join(a.work, "data-small")
    make_files(data, a.n)
    make_files(small, a.m)
    small_files = sorted(os.path.join(small, f) for f in os.listdir(small))

    results = {k: [] for k in ("floor-16", "floor-1", "pipec", "pool",
                               "parallel", "xargs", "enumerate", "find")}
    loads = []
    for r in range(a.repeat):
        loads.append(os.getloadavg()[0])
        results["floor-16"].append(wall([floor, a.python, os.path.join(
            HERE, "floor_worker.py"), data, "2", "16"]))
        run_dir = os.path.join(a.work, "pipec-%d" % r)
        shutil.rmtree(run_dir, ignore_errors=True)
        out = os.path.join(run_dir, "rows.txt")
        spec = pipec_spec(run_dir, data, a.python, out)
        results["pipec"].append(wall([pipec, "internal-parallel-step", spec]))
        with open(out) as f:
            rows = sum(1 for _ in f)
        assert rows == a.n, "pipec wrote %d rows" % rows
        shutil.rmtree(run_dir, ignore_errors=True)
        if a.quick:
            continue
        results["floor-1"].append(wall([floor, a.python, os.path.join(
            HERE, "floor_worker.py"), data, "2", "1"]))
        results["pool"].append(wall([a.python, os.path.join(HERE, "mp_pool.py"),
                                     data, os.path.join(a.work, "pool.txt")]))
        with open(os.path.join(a.work, "parallel.txt"), "w") as o:
            results["parallel"].append(wall(
                ["parallel", "-j2", "-k", a.python,
                 os.path.join(HERE, "one_shot.py"), ":::"] + small_files,
                stdout=o) * a.n / a.m)
        with open(os.path.join(a.work, "xargs.txt"), "w") as o:
            results["xargs"].append(wall(
                ["xargs", "-P2", "-n1", a.python,
                 os.path.join(HERE, "one_shot.py")],
                input="\n".join(small_files).encode(), stdout=o) * a.n / a.m)
        results["enumerate"].append(wall([enum, data, "1"]))
        results["find"].append(wall(["find", data, "-type", "f"]))
    loads.append(os.getloadavg()[0])
    if a.quick:
        f, q = statistics.median(results["floor-16"]), statistics.median(
            results["pipec"])
        print("floor-16 %.3f s, pipec %.3f s, pipec/floor throughput %.2f; "
              "load %s" % (f, q, f / q, " ".join("%.1f" % l for l in loads)))
        return

    med = {k: statistics.median(v) for k, v in results.items()}
    rate = {k: a.n / v for k, v in med.items()}
    print("pipec parallel-step dispatch, %d mini-batches of 1 item, 2 workers"
          % a.n)
    print("median of %d interleaved runs; load average %s; %d cores"
          % (a.repeat, " ".join("%.1f" % l for l in loads), os.cpu_count()))
    print("%-34s %10s %14s %10s" % ("", "seconds", "mini-batches/s",
                                    "vs floor"))
    rows = [
        ("floor, 16 in flight per worker", "floor-16"),
        ("floor, 1 in flight per worker", "floor-1"),
        ("pipec internal-parallel-step", "pipec"),
        ("multiprocessing.Pool(2).imap", "pool"),
        ("GNU Parallel -j2 (x%d scaled)" % (a.n // a.m), "parallel"),
        ("xargs -P2 (x%d scaled)" % (a.n // a.m), "xargs"),
    ]
    for label, k in rows:
        print("%-34s %10.3f %14.0f %9.2fx" % (label, med[k], rate[k],
                                              med["floor-16"] / med[k]))
    print()
    print("pipec / floor-16 throughput:   %.2f (bar: >= 0.6)"
          % (med["floor-16"] / med["pipec"]))
    print("pipec / Pool throughput:       %.2f (bar: > 1)"
          % (med["pool"] / med["pipec"]))
    print("pipec / GNU Parallel:          %.0fx" % (med["parallel"] / med["pipec"]))
    print("pipec / xargs -P2:             %.0fx" % (med["xargs"] / med["pipec"]))
    print("splitting %d files into mini-batches: %.3f s; find -type f: %.3f s;"
          " ratio %.2f (bar: <= 3)" % (a.n, med["enumerate"], med["find"],
                                       med["enumerate"] / med["find"]))


if __name__ == "__main__":
    main()
