# make_empty_files.py DIR N: N empty files DIR/fNNNNNNN (kept when DIR
# already holds exactly N entries).
import os
import sys

d, n = sys.argv[1], int(sys.argv[2])
os.makedirs(d, exist_ok=True)
if len(os.listdir(d)) != n:
    flags = os.O_CREAT | os.O_WRONLY
    for i in range(n):
        os.close(os.open(os.path.join(d, "f%07d" % i), flags, 0o644))
