# An Azure-style entry script loaded by module name (scoring.entry): init()
# reads its arguments with parse_known_args, logs through EntryScript,
# shutdown() leaves a mark.
import argparse
import os
import sys

from azureml_user.parallel_run import EntryScript

prefix = None


def init():
    global prefix
    parser = argparse.ArgumentParser()
    parser.add_argument("--prefix", default="?")
    parser.add_argument("--marks")
    args, unknown = parser.parse_known_args()
    prefix = args.prefix
    logger = EntryScript().logger
    logger.info("init: argv=%s unknown=%s", sys.argv[1:], unknown)
    with open(os.path.join(args.marks, "init-%s" % os.getpid()), "w") as f:
        f.write(os.environ.get("GREETING", ""))


def run(mini_batch):
    return ["%s %s %s" % (prefix, os.path.basename(p), os.environ["GREETING"])
            for p in mini_batch]


def shutdown():
    parser = argparse.ArgumentParser()
    parser.add_argument("--marks")
    args, _ = parser.parse_known_args()
    open(os.path.join(args.marks, "shutdown-%s" % os.getpid()), "w").close()
