# aimaster_driver.py MODE WORK INPUT KIND: runs stdlib/harness's
# pipec_aimaster.py locally (PIPEC_POD_IP 127.0.0.1, an ephemeral port) and
# talks to it with the worker client, for aimaster.test. Prints what the
# workers got and the AIMaster's exit status and log.
#   files   two workers take the shards side by side
#   table   one worker takes the rows of a table, shard by shard
#   poison  4 workers die holding shard 0: it is given up (exit 1); a
#           fifth worker finishes the others
#   denied  the API server refuses the token: the job is never marked
#           ready (exit 2)
import os
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
harness = os.path.join(here, "..", "..", "..", "stdlib", "harness")
sys.path.insert(0, harness)
sys.path.insert(0, os.path.join(here, ".."))

from pipec_elasticbatch import Client  # noqa: E402

mode, work, data, kind = sys.argv[1:5]
os.makedirs(work, exist_ok=True)
addr = os.path.join(work, "aimaster.addr")
if os.path.exists(addr):
    os.remove(addr)
env = dict(os.environ, PIPEC_POD_IP="127.0.0.1")
argv = [sys.executable, os.path.join(harness, "pipec_aimaster.py"),
        "--input", data, "--kind", kind, "--port", "0", "--addr-file", addr,
        "--workers", "2" if mode == "files" else "1"]
if kind == "table":
    argv += ["--batch-by", "size", "--size", "64"]
if mode == "denied":
    from pods_run import FakeApi

    api = FakeApi(work)
    env.update(api.pod_env(work, "ns"))
    api.token = "another"
    argv += ["--job", "eb"]
log = open(os.path.join(work, "aimaster.log"), "w")
master = subprocess.Popen(argv, env=env, stderr=log)
while not os.path.exists(addr) and master.poll() is None:
    time.sleep(0.01)
if mode != "denied":
    with open(addr) as fh:
        address = fh.read().strip()
    print("address", address.rsplit(":", 1)[0])
if mode == "files":
    import threading

    got = {}

    def serve(who):
        c = Client(address, who)
        while True:
            s = c.next_shard()
            if s is None:
                return
            got[s.index] = " ".join(os.path.basename(p) for p in s.data)

    threads = [threading.Thread(target=serve, args=(w,)) for w in "01"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in sorted(got):
        print("shard %d: %s" % (k, got[k]))
elif mode == "table":
    c = Client(address, "0")
    while True:
        s = c.next_shard()
        if s is None:
            break
        rows = s.data if isinstance(s.data, list) else s.data.to_dict(
            "records")
        print("shard %d: %s" % (s.index, " ".join(
            str(r["id"]) for r in rows)))
elif mode == "poison":
    for i in range(4):
        c = Client(address, "p%d" % i)
        print("worker p%d takes shard %d and dies" % (i, c.next_shard().index))
        c.close()
        # As a worker that dies: the next one asks once the AIMaster saw it.
        while ": worker p%d is gone" % i not in open(log.name).read():
            time.sleep(0.01)
    c = Client(address, "0")
    while True:
        s = c.next_shard()
        if s is None:
            break
        print("worker 0: shard %d" % s.index)
code = master.wait()
log.close()
print("aimaster exit", code)
with open(os.path.join(work, "aimaster.log")) as fh:
    sys.stdout.write(fh.read())
