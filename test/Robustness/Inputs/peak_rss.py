"""Runs a command and fails when its peak resident memory passes a limit.

Usage: peak_rss.py LIMIT_MB -- COMMAND...
Passes the command's stdout and stderr through and exits with its exit code,
or with 99 (and a message) when the peak RSS of the command went past
LIMIT_MB megabytes.
"""
import resource
import subprocess
import sys

limit_mb = int(sys.argv[1])
assert sys.argv[2] == "--"
code = subprocess.run(sys.argv[3:]).returncode
peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
if peak_mb > limit_mb:
    print(f"peak RSS {peak_mb:.0f} MB is over {limit_mb} MB", file=sys.stderr)
    sys.exit(99)
sys.exit(code)
