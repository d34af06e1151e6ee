# An ElasticBatch worker for pods-run.test: for each shard it writes
# OUT/shard-INDEX.txt (each file's name, size and CRC-32), written and
# renamed, so a worker killed in a shard leaves no partial output.
# PIPEC_TEST_LOG (set by the test harness only) names a file where it logs
# "start INDEX WORKER PID" and "done INDEX WORKER PID"; with PIPEC_TEST_HOLD
# set to N it holds its shard after finishing N shards (until it is killed).
import os
import sys
import time
import zlib

from pipec_elasticbatch import iter_shards

out = sys.argv[1]
log_path = os.environ.get("PIPEC_TEST_LOG")
hold = os.environ.get("PIPEC_TEST_HOLD")
worker = os.environ.get("ElASTICBATCH_CONFIG", "local")


def log(kind, index):
    if log_path:
        with open(log_path, "a") as fh:
            fh.write("%s %d %s %d\n" % (kind, index, worker.replace(" ", ""),
                                        os.getpid()))


finished = 0
for shard in iter_shards():
    log("start", shard.index)
    if hold is not None and finished == int(hold):
        log("hold", shard.index)
        while True:
            time.sleep(1)
    lines = []
    for path in shard.data:
        with open(path, "rb") as fh:
            data = fh.read()
        lines.append("%s %d %08x\n" % (os.path.basename(path), len(data),
                                       zlib.crc32(data)))
    target = os.path.join(out, "shard-%03d.txt" % shard.index)
    with open(target + ".tmp", "w") as fh:
        fh.writelines(lines)
    os.rename(target + ".tmp", target)
    log("done", shard.index)
    finished += 1
