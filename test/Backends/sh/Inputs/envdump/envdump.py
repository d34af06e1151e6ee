"""Writes the process's environment into PAI_OUTPUT_OUT/<process>.txt, ports
masked (the one thing each target picks). TensorFlow parameter servers and
evaluators then wait to be stopped; the others wait for their files first,
so that the files do not depend on timing."""
import json
import os
import re
import sys
import time

env = dict(os.environ)
out = env["PAI_OUTPUT_OUT"]
task = json.loads(env["TF_CONFIG"])["task"] if "TF_CONFIG" in env else None
if task:
    name = "%s-%d" % (task["type"], task["index"])
elif "RANK" in env:
    name = "rank-" + env["RANK"]
else:
    name = "main"
for k in ("MASTER_PORT", "WORKER_PORT"):
    if k in env:
        env[k] = "<port>"
if "TF_CONFIG" in env:
    env["TF_CONFIG"] = re.sub(r":[0-9]+\"", ":<port>\"", env["TF_CONFIG"])
# What shells add on their own, not pipec.
for k in ("_", "SHLVL", "OLDPWD"):
    env.pop(k, None)
lines = ["%s=%s\n" % kv for kv in sorted(env.items())]
lines.append("argv=%s\n" % json.dumps(sys.argv[1:]))
lines.append("cwd=%s\n" % os.getcwd())
with open(os.path.join(out, name + ".txt"), "w") as fh:
    fh.writelines(lines)
if task and task["type"] in ("ps", "evaluator"):
    while True:
        time.sleep(60)
if task:
    for other in os.environ.get("ENVDUMP_WAIT", "").split():
        while not os.path.exists(os.path.join(out, other + ".txt")):
            time.sleep(0.05)
