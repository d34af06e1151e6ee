# kill_worker.py SPEC PID_FILE: runs the step; once the entry script has
# written its pid to PID_FILE (in the middle of a mini-batch), kills that
# worker with SIGKILL; prints the step's exit status.
import os
import signal
import subprocess
import sys
import time

spec, pid_file = sys.argv[1], sys.argv[2]
pipec = os.environ.get("PIPEC", "pipec")
proc = subprocess.Popen([pipec, "internal-parallel-step", spec],
                        stderr=subprocess.DEVNULL)
deadline = time.time() + 60
while not os.path.exists(pid_file):
    if time.time() > deadline or proc.poll() is not None:
        sys.exit("the worker never wrote %s" % pid_file)
    time.sleep(0.01)
with open(pid_file) as f:
    os.kill(int(f.read()), signal.SIGKILL)
print("exit", proc.wait())
