# Records what this process was started with: its own argv, its parent's
# (the `sh -c` that ran it, if any), its environment and working folder.
import json
import os
import sys


def cmdline(pid):
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return [a.decode() for a in f.read().split(b"\0")[:-1]]


name = os.environ.get("RANK", "main")
with open(os.path.join(os.environ["PAI_OUTPUT_OUT"], name + ".json"), "w") as f:
    json.dump({"argv": cmdline(os.getpid()), "parent": cmdline(os.getppid()),
               "env": dict(os.environ), "cwd": os.getcwd()}, f)
