"""Starts a run, resumes it while it is live, kills the first pipec with
SIGKILL and resumes it again; prints what each pipec said and how it ended.

usage: lock.py FLAG RUN_DIR -- PIPEC ARGS... (the first run)
"""
import os
import signal
import subprocess
import sys
import time

flag, run_dir = sys.argv[1:3]
cmd = sys.argv[sys.argv.index("--") + 1:]
pipec = cmd[0]


def wait_for(path):
    deadline = time.time() + 60
    while not os.path.exists(path):
        if time.time() > deadline:
            sys.exit(f"{path} did not appear")
        time.sleep(0.05)


first = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
wait_for(flag + "-started")
start = time.time()
second = subprocess.run([pipec, "run", "--resume", run_dir],
                        capture_output=True, text=True, timeout=30)
print(f"second exit: {second.returncode}")
print(second.stderr, end="")
print(f"second names the first: {f'pid {first.pid}' in second.stderr}")
print(f"second refused at once: {time.time() - start < 10}")
# The first pipec dies without cleaning up; its guardian stops its step and
# holds the run until it is done. The next resume takes the run over.
first.send_signal(signal.SIGKILL)
first.wait()
os.remove(flag + "-started")
open(flag + "-go", "w").close()
third = subprocess.run([pipec, "run", "--resume", run_dir],
                       capture_output=True, text=True, timeout=60)
print(f"third exit: {third.returncode}")
print(third.stdout, end="")
print(third.stderr, end="")
