"""Checks that `pipec run` laid out and started exactly what
`pipec compile --emit=plan` says: the same config files, argv (or `sh -c`
command), environment and working folder for every process, and the same
parallel task. Usage: plan_vs_run.py PLAN.json RUN_DIR"""
import json
import os
import re
import sys

plan = json.load(open(sys.argv[1]))
run_dir = sys.argv[2]
problems = []


def local(step, text):
    """The plan's /ml paths as the run has them."""
    return re.sub(r"(?<![\w/.])/ml(?=/|$)", os.path.join(run_dir, step, "ml"), text)


def check(what, want, got):
    if want != got:
        problems.append(f"{what}:\n  plan: {want!r}\n  run:  {got!r}")


checked = 0
for s in plan["steps"]:
    name = s["name"]
    for path, text in s["files"].items():
        with open(local(name, path)) as f:
            check(f"{name}: {path}", local(name, text), f.read())
    if "parallel" in s:
        spec = json.load(open(os.path.join(run_dir, name, "parallel_step.json")))
        task = s["parallel"]
        check(f"{name}: program_arguments", task["program_arguments"],
              spec["program_arguments"])
        check(f"{name}: entry_script", task["entry_script"], spec["entry_script"])
        check(f"{name}: input_path", local(name, task["input_path"]), spec["input_path"])
        check(f"{name}: append_row_to", local(name, task["append_row_to"]),
              spec["append_row_to"])
        for key in ("error_threshold", "mini_batch_size", "batch_by", "max_retries",
                    "timeout_ms", "mini_batch_error_threshold"):
            check(f"{name}: {key}", task["settings"][key], spec["settings"][key])
        check(f"{name}: env", {k: local(name, v) for k, v in s["env"].items()},
              spec["env"])
        checked += 1
        continue
    out = os.path.join(run_dir, name, "ml", "output", "out")
    for proc in s["processes"]:
        record = os.path.join(out, proc["env"].get("RANK", "main") + ".json")
        seen = json.load(open(record))
        env = seen["env"]
        if s["argv"] is not None:
            # A launcher on PATH (pyenv's python3) may exec the program again
            # by its full path: argv[0] is compared by name.
            argv = seen["argv"]
            argv[0] = os.path.basename(argv[0])
            check(f"{name}/{proc['name']}: argv", [local(name, a) for a in s["argv"]],
                  argv)
        else:
            check(f"{name}/{proc['name']}: sh -c", ["sh", "-c", local(name, s["command"])],
                  seen["parent"])
        want_env = {k: local(name, v) for k, v in s["env"].items()}
        want_env.update(proc["env"])
        for k, v in want_env.items():
            check(f"{name}/{proc['name']}: ${k}", v, env.get(k))
        for k in env:
            if k.startswith("PAI_") and k not in want_env:
                problems.append(f"{name}/{proc['name']}: ${k} is not in the plan")
        check(f"{name}/{proc['name']}: cwd", local(name, s["working_dir"]), seen["cwd"])
        checked += 1

if problems:
    print("\n".join(problems))
    sys.exit(1)
print(f"plan and run agree: {checked} processes and tasks")
