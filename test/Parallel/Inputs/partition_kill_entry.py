# An entry script for resume-partitions.test: one row "id store brand" per
# row of a partition. With --kill-at VALUE --journal PATH --marker PATH, the
# first run() of the partition whose store is VALUE waits until the journal
# at PATH has committed every earlier partition, then kills the engine (its
# parent) with SIGKILL: an interruption at a known point.
import argparse
import os
import signal
import time

args = None


def init():
    global args
    p = argparse.ArgumentParser()
    p.add_argument("--kill-at")
    p.add_argument("--journal")
    p.add_argument("--marker")
    args, _ = p.parse_known_args()


def committed():
    try:
        with open(args.journal) as f:
            return sum(1 for line in f if line.startswith("C "))
    except OSError:
        return 0


def run(mini_batch, context):
    if type(mini_batch).__name__ == "DataFrame":
        rows = mini_batch.to_dict("records")
    else:
        rows = mini_batch
    store = str(context.partition_key_value["store"])
    if args.kill_at == store and not os.path.exists(args.marker):
        open(args.marker, "w").close()
        while committed() < context.minibatch_index:
            time.sleep(0.01)
        os.kill(os.getppid(), signal.SIGKILL)
        time.sleep(60)
    return ["%s %s %s" % (r["id"], r["store"], r["brand"]) for r in rows]
