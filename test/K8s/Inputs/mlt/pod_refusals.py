"""Runs one pod of an Indexed Job (`pipec_harness.py --indexed`, pod 0 of
1) over the input of each step of a `pipec run` folder that failed, and
compares the pod's words with the step's logs/job_result.txt. Then a pod
over DATA/anchor, an MLTable with a YAML anchor, which pipec run reads and
the pods refuse by name.

usage: pod_refusals.py HARNESS_DIR RUN_DIR DATA_DIR WORKDIR
Prints one line per step; exits 1 when a pod's words differ."""
import json
import os
import subprocess
import sys

harness, run_dir, data, work = sys.argv[1:5]
KEYS = {"fileskeys": ["Store"]}


def pod(name, input_path):
    cfg = {"input_path": input_path, "input_kind": "table",
           "settings": {"mini_batch_size": 1024,
                        "batch_by": "partition_keys" if name in KEYS
                        else "size", "mini_batch_files": 0,
                        "partition_keys": KEYS.get(name, [])},
           "state_dir": os.path.join(work, name, "state"),
           "entry_script": "echo.py", "program_arguments": [],
           "code_dir": work, "instance_count": 1, "per_instance": 1}
    os.makedirs(os.path.join(work, name), exist_ok=True)
    path = os.path.join(work, name, "config.json")
    with open(path, "w") as fh:
        json.dump(cfg, fh)
    p = subprocess.run([sys.executable, os.path.join(
        harness, "pipec_harness.py"), "--indexed", path],
        env=dict(os.environ, JOB_COMPLETION_INDEX="0"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return p.returncode, p.stderr.strip()


bad = 0
for step in sorted(os.listdir(run_dir)):
    result = os.path.join(run_dir, step, "logs", "job_result.txt")
    if step.startswith("write_") or not os.path.exists(result):
        continue
    with open(result, encoding="utf-8") as fh:
        sentence = fh.readline().strip()
    want = sentence.split(" failed: ", 1)[1]
    # The input as pipec run gave it to the engine: the step's mount.
    code, said = pod(step, os.path.join(run_dir, step, "ml", "input", "data",
                                        "data") + "/")
    got = said.split("the parallel step failed: ", 1)[-1]
    same = code == 1 and got == want
    bad += not same
    print("%s: exit %d, %s" % (step, code, "the same words" if same else
                               "differs:\n  run: %s\n  pod: %s" % (want,
                                                                   said)))
code, said = pod("anchor", os.path.join(data, "anchor"))
print("anchor: exit %d: %s" % (code, said))
sys.exit(1 if bad else 0)
