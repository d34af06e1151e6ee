# What a Python user would write: multiprocessing.Pool(2).imap over the
# mini-batches, rows gathered into one file in order.
#   mp_pool.py DIR OUT [CHUNKSIZE]
import multiprocessing
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from identity_entry import run  # noqa: E402

if __name__ == "__main__":
    d, out = sys.argv[1], sys.argv[2]
    chunksize = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    batches = ([os.path.join(d, name)] for name in sorted(os.listdir(d)))
    with multiprocessing.Pool(2) as pool, open(out, "w") as f:
        for rows in pool.imap(run, batches, chunksize):
            for row in rows:
                f.write("%s\n" % row)
