# run(): each file's name and size. PIPEC_TEST_CALLS (set by pods_run.py
# only) names a file that records every mini-batch run() was given.
import os
import time


def init():
    pass


def run(mini_batch):
    log = os.environ.get("PIPEC_TEST_CALLS")
    if log:
        with open(log, "a") as fh:
            fh.write(" ".join(os.path.basename(f) for f in mini_batch) + "\n")
        time.sleep(0.2)
    return ["%s %d" % (os.path.basename(f), os.path.getsize(f))
            for f in mini_batch]
