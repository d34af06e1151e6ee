# A deterministic entry script for fault-injection tests. Items are files
# (their base name) or table rows (their `id` column). Faults, each naming an
# item:
#   --raise ITEM          run() raises
#   --short ITEM          run() returns one row less than it got
#   --exit ITEM           the process exits with status 7
#   --hang ITEM           run() never returns
#   --sleep ITEM:SECONDS  run() sleeps first
#   --pid-file ITEM:PATH  writes the worker's pid to PATH, then hangs (for a
#                         test that kills the worker)
#   --once DIR            each fault fires on the first attempt only (marker
#                         files in DIR)
#   --each SECONDS        every run() sleeps this long
#   --init-raise, --init-hang, --init-sleep SECONDS
#   --spawn DIR           init() starts a `sleep` child and writes its pid to
#                         DIR/child-PID (a process the engine never sees)
#   --edit ITEM:TEXT      with --content: once run() has read ITEM, another
#                         writer replaces the file's content with TEXT
# Rows: "ITEM" per item, "ITEM worker=W" with --show-worker, "ITEM:CONTENT"
# with --content (file items); --dataframe returns a pandas DataFrame (item,
# position) instead of a list.
import argparse
import os
import sys
import time

args = None


def init():
    global args
    p = argparse.ArgumentParser()
    for flag in ("--raise", "--short", "--exit", "--hang", "--sleep",
                 "--pid-file", "--edit"):
        p.add_argument(flag, action="append", default=[])
    p.add_argument("--once")
    p.add_argument("--each", type=float, default=0)
    p.add_argument("--init-raise", action="store_true")
    p.add_argument("--init-hang", action="store_true")
    p.add_argument("--init-sleep", type=float, default=0)
    p.add_argument("--show-worker", action="store_true")
    p.add_argument("--content", action="store_true")
    p.add_argument("--spawn")
    p.add_argument("--dataframe", action="store_true")
    args, _ = p.parse_known_args()
    if args.spawn:
        import subprocess

        child = subprocess.Popen(["sleep", "600"])
        with open(os.path.join(args.spawn, "child-%d" % child.pid), "w"):
            pass
    if args.init_sleep:
        time.sleep(args.init_sleep)
    if args.init_hang:
        while True:
            time.sleep(1)
    if args.init_raise:
        raise ValueError("init() refuses to start")


def fires(kind, item):
    """True when fault `kind` applies to `item` now."""
    if args.once is None:
        return True
    marker = os.path.join(args.once, "%s-%s" % (kind, item))
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        return True
    except FileExistsError:
        return False


def split(values):
    out = {}
    for v in values:
        item, _, arg = v.partition(":")
        out[item] = arg
    return out


def items_of(mini_batch):
    if isinstance(mini_batch, list):
        return [os.path.basename(x) if isinstance(x, str) else str(x["id"])
                for x in mini_batch]
    return [str(x) for x in mini_batch["id"]]


def run(mini_batch):
    items = items_of(mini_batch)
    if args.each:
        time.sleep(args.each)
    sleeps = split(args.sleep)
    pid_files = split(args.pid_file)
    short = False
    for item in items:
        if item in sleeps and fires("sleep", item):
            time.sleep(float(sleeps[item]))
        if item in pid_files and fires("pid", item):
            with open(pid_files[item] + ".tmp", "w") as f:
                f.write(str(os.getpid()))
            os.rename(pid_files[item] + ".tmp", pid_files[item])
            while True:
                time.sleep(1)
        if item in args.hang and fires("hang", item):
            while True:
                time.sleep(1)
        if item in args.exit and fires("exit", item):
            sys.stdout.flush()
            os._exit(7)
        if item in getattr(args, "raise") and fires("raise", item):
            raise RuntimeError("injected failure on item %s" % item)
        if item in args.short and fires("short", item):
            short = True
    if args.show_worker:
        rows = ["%s worker=%s" % (i, os.environ.get("PIPEC_WORKER_INDEX"))
                for i in items]
    elif args.content:
        rows = []
        edits = split(args.edit)
        for path in mini_batch:
            with open(path) as f:
                rows.append("%s:%s" % (os.path.basename(path), f.read().strip()))
            item = os.path.basename(path)
            if item in edits and fires("edit", item):
                with open(path, "w") as f:
                    f.write(edits[item] + "\n")
    else:
        rows = list(items)
    rows = rows[:-1] if short else rows
    if args.dataframe:
        import pandas

        return pandas.DataFrame({"item": rows, "position": range(len(rows))})
    return rows
