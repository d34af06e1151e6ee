# expect_rows.py DIR [--exclude NAME...]: the rows fake_entry.py returns for
# the files of DIR, in mini-batch order, leaving out the names given.
import os
import sys

d = sys.argv[1]
exclude = set(sys.argv[3:]) if sys.argv[2:3] == ["--exclude"] else set()
for name in sorted(os.listdir(d)):
    if name not in exclude:
        print(name)
