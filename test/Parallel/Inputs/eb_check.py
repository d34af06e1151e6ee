# eb_check.py OUT: what the workers of elasticbatch.test did, from their
# OUT/log-PID.txt files: which shards finished and how often, how many
# files, and who finished shard 1 when its first worker was killed in it.
import collections
import glob
import os
import sys

started = collections.defaultdict(list)
done = collections.defaultdict(list)
files = []
for path in glob.glob(os.path.join(sys.argv[1], "log-*.txt")):
    with open(path) as f:
        for line in f:
            kind, index, pid, *rest = line.split()
            (started if kind == "start" else done)[int(index)].append(pid)
            if kind == "done":
                files += rest[0].split(",")
once = sorted(i for i, pids in done.items() if len(pids) == 1)
twice = sorted(i for i, pids in done.items() if len(pids) > 1)
print("shards done once each:", " ".join(map(str, once)))
print("shards done more than once:", " ".join(map(str, twice)) or "none")
print("files done: %d (%d distinct)" % (len(files), len(set(files))))
lost = [p for p in started[1] if p not in done[1]]
if lost:
    finisher = done[1][0] if done[1] else None
    print("shard 1: its worker died in it; finished by %s" %
          ("another process" if finisher and finisher not in lost
           else finisher))
