# kill_parent.py SPEC MARKS: runs the step under a parent process, waits until
# every worker has started its own child (fake_entry.py --spawn MARKS), then
# kills the parent with SIGKILL. Reports whether the engine, its workers and
# the workers' children are all gone.
import os
import signal
import subprocess
import sys
import time

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


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def group(pgid):
    out = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open("/proc/%s/stat" % pid) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
                out.append(int(pid))
    return out


deadline = time.time() + 60
while len([m for m in os.listdir(marks) if m.startswith("child-")]) < 2:
    if time.time() > deadline:
        sys.exit("the workers never started their children")
    time.sleep(0.02)
children = [int(m[len("child-"):]) for m in os.listdir(marks)]
workers = [p for p in group(engine) if p != engine]
print("before: engine alive %s, %d processes in its group, children alive %s"
      % (alive(engine), len(workers), all(alive(c) for c in children)))
os.kill(parent.pid, signal.SIGKILL)
parent.wait()
deadline = time.time() + 20
while alive(engine) or group(engine) or any(alive(c) for c in children):
    if time.time() > deadline:
        sys.exit("survivors: engine %s, group %s, children %s"
                 % (alive(engine), group(engine),
                    [c for c in children if alive(c)]))
    time.sleep(0.02)
print("after: engine, workers and their children are gone")
