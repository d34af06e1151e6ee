"""Entry script that starts a process in a session of its own and leaves it."""
import os
import subprocess
import sys

_child = None


def init():
    global _child
    marker = sys.argv[sys.argv.index("--marker") + 1]
    here = os.path.dirname(os.path.abspath(__file__))
    _child = subprocess.Popen(["sh", os.path.join(here, "linger.sh"), marker],
                              start_new_session=True)


def run(mini_batch):
    return list(mini_batch)
