# One process per mini-batch (what GNU Parallel and xargs -P run): imports the
# entry script, calls run() on the paths given, prints the rows.
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from identity_entry import run  # noqa: E402

for row in run(sys.argv[1:]):
    print(row)
