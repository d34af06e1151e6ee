# run_output.py WORKDIR STEP CHANNEL: the path of output CHANNEL of STEP in
# the one run under WORKDIR/runs/ (RUNTIME.md's layout): the channel's
# folder, or for a file output the one file it holds.
import glob
import os
import sys

work, step, channel = sys.argv[1:4]
# `runs/latest` links the newest run; count the runs themselves.
runs = sorted(p for p in glob.glob(os.path.join(work, "runs", "*"))
              if not os.path.islink(p))
if len(runs) != 1:
    sys.exit("expected one run under %s/runs, found %d" % (work, len(runs)))
path = os.path.join(runs[0], step, "ml", "output", channel)
if len(sys.argv) > 4 and sys.argv[4] == "--file" and os.path.isdir(path):
    files = [os.path.join(d, f) for d, _, fs in os.walk(path) for f in fs]
    if len(files) != 1:
        sys.exit("expected one file in %s, found %d" % (path, len(files)))
    path = files[0]
print(path)
