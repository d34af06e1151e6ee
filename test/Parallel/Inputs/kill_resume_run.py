# kill_resume_run.py PIPELINE WORKDIR KILLS SEED MAX_SECONDS [pipec run
# options...]: starts `pipec run`, kills it with SIGKILL at KILLS seeded
# random moments, checking each time that no process it started survives,
# and continues with `pipec run --resume RUN_DIR`; then lets the last run
# finish. Prints its exit status and how many runs ended by a kill.
import glob
import os
import random
import signal
import subprocess
import sys
import time

pipeline, work, kills, seed, max_seconds = (sys.argv[1], sys.argv[2],
                                            int(sys.argv[3]), int(sys.argv[4]),
                                            float(sys.argv[5]))
extra = sys.argv[6:]
pipec = os.environ.get("PIPEC", "pipec")
rng = random.Random(seed)


def descendants_alive(marker):
    """Processes whose environment or command line mentions the run folder."""
    alive = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmd = f.read()
            with open("/proc/%s/stat" % pid) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if marker.encode() in cmd and state not in ("Z", "X"):
            alive.append(int(pid))
    return alive


def start(resume_dir):
    cmd = [pipec, "run"]
    cmd += ["--resume", resume_dir] if resume_dir else [pipeline, "--workdir",
                                                         work] + extra
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


run_dir = None
killed = 0
for i in range(kills):
    proc = start(run_dir)
    time.sleep(rng.uniform(0.2, max_seconds))
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
        killed += 1
    proc.wait()
    runs = glob.glob(os.path.join(work, "runs", "*"))
    if runs:
        run_dir = runs[0]
    deadline = time.time() + 20
    while run_dir and descendants_alive(run_dir):
        if time.time() > deadline:
            sys.exit("processes of the killed run survive: %s"
                     % descendants_alive(run_dir))
        time.sleep(0.05)
proc = start(run_dir)
print("exit", proc.wait(), "killed", killed)
