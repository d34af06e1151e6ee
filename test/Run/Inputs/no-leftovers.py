"""Waits up to 10 s until no process shows MARKER; prints how many remain."""
import os
import subprocess
import sys
import time

marker = sys.argv[1]


def alive():
    ps = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True)
    me = str(os.getpid())
    return [line for line in ps.stdout.splitlines()
            if marker in line and line.split()[0] != me]


deadline = time.time() + 10
while alive() and time.time() < deadline:
    time.sleep(0.1)
print(f"processes left: {len(alive())}")
