# An ElasticBatch worker for elasticbatch.test. For each shard it writes
# "start INDEX PID", then "done INDEX PID FILES" to OUT/log-PID.txt.
# MODE: "work"; "kill": the first worker to take shard 1 kills itself in the
# middle of it (once); "poison": every worker that takes shard 2 kills
# itself; "early": a worker takes one shard and exits without asking for
# the next.
import os
import signal
import sys
import time

from pipec_elasticbatch import iter_shards

out, mode = sys.argv[1], sys.argv[2]
log = open(os.path.join(out, "log-%d.txt" % os.getpid()), "a", buffering=1)
for shard in iter_shards():
    log.write("start %d %d\n" % (shard.index, os.getpid()))
    if mode == "kill" and shard.index == 1:
        try:
            os.close(os.open(os.path.join(out, "killed"),
                             os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            os.kill(os.getpid(), signal.SIGKILL)
        except FileExistsError:
            pass
    if mode == "poison" and shard.index == 2:
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(0.05)  # long enough for both workers to take shards
    names = [os.path.basename(p) for p in shard.data]
    log.write("done %d %d %s\n" % (shard.index, os.getpid(), ",".join(names)))
    if mode == "early":
        break
