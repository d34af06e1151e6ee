# disk_full.py PIPELINE MOUNT SMALL LARGE OUT: in a mount namespace of its
# own (run it under `unshare --mount --propagation private`), mounts a
# tmpfs of SMALL bytes at MOUNT, runs `pipec run PIPELINE` with its work
# folder there until the disk is full, grows the tmpfs to LARGE and resumes
# the run. Prints each exit status, pipec's stderr, and the step's
# job_result.txt and main.log; copies the final rows to OUT (the tmpfs goes
# away with the namespace).
import glob
import os
import shutil
import subprocess
import sys

pipeline, mnt, small, large, out = sys.argv[1:6]
pipec = os.environ.get("PIPEC", "pipec")
os.makedirs(mnt, exist_ok=True)
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=" + small, "tmpfs", mnt],
               check=True)
work = os.path.join(mnt, "wd")


def run(args, label):
    # The step cache would fill the small disk with its records of the
    # 3000 input files before the step does.
    p = subprocess.run([pipec, "run", "--no-cache"] + args,
                       capture_output=True, text=True)
    print("%s: exit %d" % (label, p.returncode))
    print(p.stderr, end="")
    step = os.path.join(work, "runs", "r", "score", "logs")
    for name in ("job_result.txt", "main.log"):
        try:
            with open(os.path.join(step, name)) as f:
                for line in f:
                    print("%s: %s" % (name, line), end="")
        except OSError as e:
            print("%s: missing (%s)" % (name, e.strerror))


run([pipeline, "--workdir", work, "--run-id", "r"], "full")
subprocess.run(["mount", "-o", "remount,size=" + large, "tmpfs", mnt],
               check=True)
run(["--resume", os.path.join(work, "runs", "r")], "resumed")
rows = glob.glob(os.path.join(work, "runs", "r", "score", "ml", "output",
                              "rows", "*"))
if rows:
    shutil.copy(rows[0], out)
