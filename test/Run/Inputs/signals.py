"""Starts pipec, waits until its steps have started, sends it a signal, and
reports how pipec ended and whether any process it started is still alive.

usage: signals.py SIGNAL MARKER FLAG_GLOB COUNT -- PIPEC ARGS...
"""
import glob
import os
import signal
import subprocess
import sys
import time

sig_name, marker, flag_glob, count = sys.argv[1:5]
cmd = sys.argv[sys.argv.index("--") + 1:]


def alive():
    ps = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True)
    me = str(os.getpid())
    return [line for line in ps.stdout.splitlines()
            if marker in line and line.split()[0] != me]


proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
deadline = time.time() + 60
while len(glob.glob(flag_glob)) < int(count):
    if time.time() > deadline or proc.poll() is not None:
        print("steps did not start")
        break
    time.sleep(0.05)
proc.send_signal(getattr(signal, "SIG" + sig_name))
out, _ = proc.communicate(timeout=60)
print(out, end="")
print(f"pipec exit: {proc.returncode}")
# The guardian finishes what a killed pipec left: give it its grace period.
deadline = time.time() + 30
while alive() and time.time() < deadline:
    time.sleep(0.1)
left = alive()
print(f"processes left: {len(left)}")
for line in left:
    print("  " + line)
