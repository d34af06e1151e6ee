# Writes a ParallelStepSpec for tests:
#   make_spec.py WORKDIR [options] [-- PROGRAM ARGUMENTS...]
# The step's logs and state go to WORKDIR/step/, rows to WORKDIR/out/rows.txt.
import argparse
import json
import os
import sys

p = argparse.ArgumentParser()
p.add_argument("workdir")
p.add_argument("--input", required=True)
p.add_argument("--type", default="folder")
p.add_argument("--code", default=os.path.dirname(os.path.abspath(__file__)))
p.add_argument("--entry", default="fake_entry.py")
p.add_argument("--python", default=sys.executable)
p.add_argument("--size", default="1")
p.add_argument("--keys", default="")
# Files per mini-batch when a table input is an MLTable that only lists
# files (0: by size).
p.add_argument("--files", type=int)
p.add_argument("--instances", type=int, default=1)
p.add_argument("--per-instance", type=int, default=2)
p.add_argument("--max-retries", type=int, default=3)
p.add_argument("--timeout", type=float, default=60)
p.add_argument("--mini-batch-error-threshold", type=int, default=-1)
p.add_argument("--error-threshold", type=int, default=-1)
p.add_argument("--allowed-failed-percent", type=float, default=100)
p.add_argument("--task-overhead-timeout", type=float, default=30)
p.add_argument("--progress-update-timeout", type=float, default=0)
p.add_argument("--first-task-creation-timeout", type=float, default=600)
p.add_argument("--resource-monitor-interval", type=float, default=0)
p.add_argument("--copy-logs-to-parent", action="store_true")
p.add_argument("--logging-level", default="INFO")
p.add_argument("--no-append", action="store_true")
p.add_argument("--resume", action="store_true")
p.add_argument("--env", action="append", default=[])
p.add_argument("--spec", default="spec.json")
argv = sys.argv[1:]
script_args = []
if "--" in argv:
    script_args = argv[argv.index("--") + 1:]
    argv = argv[:argv.index("--")]
a = p.parse_args(argv)

work = os.path.abspath(a.workdir)
size = a.size
if a.keys:
    batch_by = "partition_keys"
elif size.lower().endswith(("kb", "mb", "b")) or a.type == "table":
    batch_by = "size"
else:
    batch_by = "count"
if batch_by == "size":
    s = size.lower()
    mult = 1
    for suffix, m in (("kb", 1024), ("mb", 1024 * 1024), ("b", 1)):
        if s.endswith(suffix):
            s, mult = s[: -len(suffix)], m
            break
    size_value = int(float(s) * mult)
else:
    size_value = int(size)
ms = lambda seconds: int(seconds * 1000)
args = script_args
spec = {
    "step_name": "score",
    "location": "pipeline.yaml:7:5",
    "python": a.python,
    "code_dir": os.path.abspath(a.code),
    "entry_script": a.entry,
    "program_arguments": args,
    "input_path": os.path.abspath(a.input),
    "input_type": a.type,
    "settings": {
        "input_data": "data",
        "batch_by": batch_by,
        "mini_batch_size": size_value,
        "partition_keys": [k for k in a.keys.split(",") if k],
        **({"mini_batch_files": a.files} if a.files is not None else {}),
        "max_concurrency_per_instance": a.per_instance,
        "mini_batch_error_threshold": a.mini_batch_error_threshold,
        "error_threshold": a.error_threshold,
        "allowed_failed_percent": a.allowed_failed_percent,
        "max_retries": a.max_retries,
        "timeout_ms": ms(a.timeout),
        "logging_level": a.logging_level,
        "entry_script": a.entry,
        "append_row_to": "" if a.no_append else "rows",
        "task_overhead_timeout_ms": ms(a.task_overhead_timeout),
        "progress_update_timeout_ms": ms(a.progress_update_timeout),
        "first_task_creation_timeout_ms": ms(a.first_task_creation_timeout),
        "resource_monitor_interval_ms": ms(a.resource_monitor_interval),
        "copy_logs_to_parent": a.copy_logs_to_parent,
    },
    "instance_count": a.instances,
    "append_row_to": "" if a.no_append else os.path.join(work, "out", "rows.txt"),
    "env": dict(e.split("=", 1) for e in a.env),
    "logs_dir": os.path.join(work, "step", "logs"),
    "state_dir": os.path.join(work, "step", "state"),
    "resume": a.resume,
}
os.makedirs(work, exist_ok=True)
with open(os.path.join(work, a.spec), "w") as f:
    json.dump(spec, f, indent=1)
