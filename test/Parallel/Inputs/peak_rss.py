# peak_rss.py LIMIT_MB COMMAND...: runs COMMAND and reports its exit status
# and whether its peak resident set size (getrusage via wait4) stayed under
# LIMIT_MB.
import os
import subprocess
import sys

limit = float(sys.argv[1])
proc = subprocess.Popen(sys.argv[2:], stderr=subprocess.DEVNULL)
_, status, usage = os.wait4(proc.pid, 0)
mb = usage.ru_maxrss / 1024.0
code = os.waitstatus_to_exitcode(status)
if mb < limit:
    print("exit %d, peak RSS under %g MB" % (code, limit))
else:
    print("exit %d, peak RSS %.1f MB, over %g MB" % (code, mb, limit))
