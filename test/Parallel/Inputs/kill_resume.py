# kill_resume.py SPEC KILLS SEED MAX_SECONDS: kills the engine with SIGKILL at
# KILLS random moments (seeded), each time checking that no process it
# started survives, and resumes it; then lets the last run finish. Prints the
# exit status of the last run and how many runs ended by a kill.
import json
import os
import random
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procs import alive, descendants  # noqa: E402

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


with open(spec_path) as f:
    journal = os.path.join(json.load(f)["state_dir"], "journal.d", "journal")


def committed():
    try:
        with open(journal) as f:
            return any(line.startswith("C ") for line in f)
    except OSError:
        return False


set_resume(False)
killed = 0
for i in range(kills):
    proc = subprocess.Popen([pipec, "internal-parallel-step", spec_path],
                            stderr=subprocess.DEVNULL)
    time.sleep(rng.uniform(0.05, max_seconds))
    # The last kill comes after a commit, however slow the machine is, so that
    # the final run resumes something (the moments before it stay random).
    deadline = time.time() + 30
    while (i == kills - 1 and not committed() and proc.poll() is None
           and time.time() < deadline):
        time.sleep(0.01)
    started = descendants(proc.pid)  # sentinel, workers, their children
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
        killed += 1
    proc.wait()
    deadline = time.time() + 20
    while any(alive(p) for p in started):
        if time.time() > deadline:
            sys.exit("processes of the killed engine survive: %s"
                     % [p for p in started if alive(p)])
        time.sleep(0.01)
    set_resume(True)
rc = subprocess.run([pipec, "internal-parallel-step", spec_path],
                    stderr=subprocess.DEVNULL).returncode
print("exit", rc, "killed", killed)
