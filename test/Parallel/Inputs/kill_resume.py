# kill_resume.py SPEC KILLS SEED MAX_SECONDS: kills the engine with SIGKILL at
# KILLS random moments (seeded), each time checking that no process of its
# group survives, and resumes it; then lets the last run finish. Prints the
# exit status of the last run and how many runs ended by a kill.
import json
import os
import random
import signal
import subprocess
import sys
import time

spec_path, kills, seed, max_seconds = (sys.argv[1], int(sys.argv[2]),
                                       int(sys.argv[3]), float(sys.argv[4]))
pipec = os.environ.get("PIPEC", "pipec")
rng = random.Random(seed)


def set_resume(on):
    with open(spec_path) as f:
        spec = json.load(f)
    spec["resume"] = on
    with open(spec_path, "w") as f:
        json.dump(spec, f)


def group_alive(pgid):
    """Live (not zombie) processes of group `pgid`. Dead ones wait for
    whoever reaps orphans, which can take a while."""
    alive = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        state, group = fields[0], int(fields[2])
        if group == pgid and state not in ("Z", "X"):
            alive.append(int(pid))
    return alive


set_resume(False)
killed = 0
for i in range(kills):
    proc = subprocess.Popen([pipec, "internal-parallel-step", spec_path],
                            stderr=subprocess.DEVNULL)
    time.sleep(rng.uniform(0.05, max_seconds))
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
        killed += 1
    proc.wait()
    # The engine leads its own process group: workers and their children go
    # with it.
    deadline = time.time() + 20
    while group_alive(proc.pid):
        if time.time() > deadline:
            sys.exit("processes of the killed engine survive (group %d): %s"
                     % (proc.pid, group_alive(proc.pid)))
        time.sleep(0.01)
    set_resume(True)
rc = subprocess.run([pipec, "internal-parallel-step", spec_path],
                    stderr=subprocess.DEVNULL).returncode
print("exit", rc, "killed", killed)
