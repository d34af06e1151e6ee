# make_files.py DIR N [--width W]: N files DIR/item0000.txt ... (content: the
# item name), replacing DIR.
import os
import shutil
import sys

d, n = sys.argv[1], int(sys.argv[2])
width = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[3] == "--width" else 4
shutil.rmtree(d, ignore_errors=True)
os.makedirs(d)
for i in range(n):
    name = "item%0*d" % (width, i)
    with open(os.path.join(d, name + ".txt"), "w") as f:
        f.write(name + "\n")
