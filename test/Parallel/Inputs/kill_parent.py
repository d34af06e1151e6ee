# kill_parent.py SPEC MARKS: runs the step under a parent process, waits until
# every worker has started its own child (fake_entry.py --spawn MARKS), then
# kills the parent with SIGKILL. Reports whether the engine, its workers and
# the workers' children are all gone.
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procs import alive, descendants  # noqa: E402

spec, marks = sys.argv[1], sys.argv[2]
pipec = os.environ.get("PIPEC", "pipec")
parent = subprocess.Popen(
    [sys.executable, "-c",
     "import subprocess, sys, time\n"
     "p = subprocess.Popen(sys.argv[1:], stderr=subprocess.DEVNULL)\n"
     "print(p.pid, flush=True)\n"
     "time.sleep(600)\n",
     pipec, "internal-parallel-step", spec],
    stdout=subprocess.PIPE)
engine = int(parent.stdout.readline())


deadline = time.time() + 60
while len([m for m in os.listdir(marks) if m.startswith("child-")]) < 2:
    if time.time() > deadline:
        sys.exit("the workers never started their children")
    time.sleep(0.02)
children = [int(m[len("child-"):]) for m in os.listdir(marks)]
below = descendants(engine)
print("before: engine alive %s, %d processes below it, children alive %s"
      % (alive(engine), len(below), all(alive(c) for c in children)))
os.kill(parent.pid, signal.SIGKILL)
parent.wait()
deadline = time.time() + 20
while alive(engine) or any(alive(p) for p in below + children):
    if time.time() > deadline:
        sys.exit("survivors: engine %s, below %s"
                 % (alive(engine), [p for p in below + children if alive(p)]))
    time.sleep(0.02)
print("after: engine, workers and their children are gone")
