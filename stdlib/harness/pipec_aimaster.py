# The AIMaster of an ElasticBatchJob on Kubernetes (backends/k8s): the
# shard service of `pipec run` (runtime/parallel/aimaster.h) over TCP.
#
#     python3 pipec_aimaster.py --input PATH --kind files|table --workers N
#                               --port PORT --addr-file FILE
#
# Splits the data input as a parallel step's pods do (pipec_harness's
# split_input: files by count, tables by size), serves the shard protocol
# on PORT at the pod's IP (PIPEC_POD_IP, from the downward API), writes
# "tcp:IP:PORT" to FILE on the run's claim (KubeDL makes no Service for
# ElasticBatch, so workers read the address there), then marks the job
# ready (annotation aimaster: "ready", which KubeDL waits for before it
# starts the workers) with a merge-patch through the Kubernetes API, as the
# pod's service account (in-cluster configuration). Exits 0 once every
# shard is finished and every worker was told so; 1 when a shard was given
# up (lost with --max-losses workers); 2 when the input cannot be split or
# the job cannot be marked; 3 when shards are left and no worker came for
# --idle-timeout seconds. Standard library only.
#
# Protocol (one line each way, as the C++ ShardMaster):
#   worker -> master  "HELLO <worker>", then "NEXT" for each shard (which
#                     also reports the previous shard finished)
#   master -> worker  "S <id> <index> <payload JSON>", "W <ms>", "D"
import argparse
import collections
import json
import os
import socket
import socketserver
import ssl
import sys
import threading
import time
import urllib.error
import urllib.request

SERVICE_ACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"


class Shards:
    """The shards and who holds them; every method under the lock."""

    def __init__(self, batches, max_losses):
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.batches = batches
        self.next_index = 0
        self.outstanding = set(range(len(batches)))
        self.requeued = collections.deque()
        self.losses = collections.Counter()
        self.given_up = []
        self.finished = 0
        self.requeues = 0
        self.max_losses = max(1, max_losses)
        self.told_done = set()  # workers answered "D"
        self.clients = 0
        self.last_seen = time.monotonic()

    def done(self):
        return not self.outstanding

    def take(self):
        """A shard index to hand out, or None."""
        if self.requeued:
            return self.requeued.popleft()
        if self.next_index < len(self.batches):
            self.next_index += 1
            return self.next_index - 1
        return None

    def finish(self, k):
        self.outstanding.discard(k)
        self.finished += 1

    def release(self, k):
        """The worker holding shard k is gone: back to the front of the
        queue (True), or given up when lost too often (False)."""
        self.losses[k] += 1
        if self.losses[k] >= self.max_losses:
            self.outstanding.discard(k)
            self.given_up.append(k)
            return False
        self.requeued.appendleft(k)
        self.requeues += 1
        return True


def label(batch):
    if isinstance(batch, list):
        return os.path.basename(batch[0]) if batch else ""
    return "%s:%d" % (os.path.basename(batch["f"]), batch["b"])


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        shards = self.server.shards
        held, worker = None, "?"
        with shards.lock:
            shards.clients += 1
            shards.last_seen = time.monotonic()
        try:
            for raw in self.rfile:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                if line.startswith("HELLO "):
                    worker = line[len("HELLO "):]
                    continue
                if line != "NEXT":
                    self.wfile.write(b"E unknown request\n")
                    continue
                with shards.lock:
                    shards.last_seen = time.monotonic()
                    if held is not None:
                        shards.finish(held)
                        log("shard %d finished by worker %s" % (held, worker))
                        held = None
                    k = shards.take()
                    if k is not None:
                        held = k
                        reply = "S %d %d %s\n" % (k, k, json.dumps(
                            shards.batches[k], separators=(",", ":")))
                    elif not shards.done():
                        reply = "W 50\n"
                    else:
                        reply = "D\n"
                        shards.told_done.add(worker)
                    shards.changed.notify_all()
                self.wfile.write(reply.encode())
                self.wfile.flush()
        except OSError:
            pass
        finally:
            with shards.lock:
                shards.clients -= 1
                shards.last_seen = time.monotonic()
                if held is not None:
                    log("shard %d %s: worker %s is gone" % (
                        held, "given back" if shards.release(held)
                        else "given up", worker))
                shards.changed.notify_all()


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


def log(text):
    sys.stderr.write("aimaster: %s\n" % text)
    sys.stderr.flush()


def mark_ready(job, namespace=None):
    """PATCHes the annotation aimaster: "ready" onto the ElasticBatchJob
    with the pod's service-account token (in-cluster configuration)."""
    sa = os.environ.get("PIPEC_SERVICEACCOUNT_DIR", SERVICE_ACCOUNT)
    host = os.environ["KUBERNETES_SERVICE_HOST"]
    port = os.environ.get("KUBERNETES_SERVICE_PORT", "443")
    if ":" in host:
        host = "[%s]" % host
    with open(os.path.join(sa, "token")) as fh:
        token = fh.read().strip()
    if not namespace:
        with open(os.path.join(sa, "namespace")) as fh:
            namespace = fh.read().strip()
    context = ssl.create_default_context(cafile=os.path.join(sa, "ca.crt"))
    url = ("https://%s:%s/apis/inference.kubedl.io/v1alpha1/namespaces/%s/"
           "elasticbatchjobs/%s" % (host, port, namespace, job))
    body = json.dumps({"metadata": {"annotations": {"aimaster": "ready"}}})
    request = urllib.request.Request(
        url, data=body.encode(), method="PATCH",
        headers={"Authorization": "Bearer " + token,
                 "Content-Type": "application/merge-patch+json",
                 "Accept": "application/json"})
    for attempt in range(5):
        try:
            with urllib.request.urlopen(request, context=context,
                                        timeout=30) as response:
                response.read()
                return
        except urllib.error.HTTPError as e:
            # 4xx other than a conflict or throttling will not get better.
            if e.code < 500 and e.code not in (409, 429) or attempt == 4:
                raise
        except OSError:
            if attempt == 4:
                raise
        time.sleep(1 << attempt)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="pipec_aimaster")
    ap.add_argument("--input", default="")
    ap.add_argument("--kind", choices=("files", "table"), default="files")
    ap.add_argument("--batch-by", choices=("count", "size"), default="count")
    ap.add_argument("--size", type=int, default=10)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--port", type=int, default=23456)
    ap.add_argument("--addr-file", required=True)
    ap.add_argument("--job", default=os.environ.get("PIPEC_JOB_NAME", ""))
    ap.add_argument("--namespace", default=os.environ.get("PIPEC_NAMESPACE"))
    ap.add_argument("--max-losses", type=int, default=4)
    ap.add_argument("--idle-timeout", type=float, default=600)
    ap.add_argument("--linger", type=float, default=60)
    a = ap.parse_args(argv)

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from pipec_harness import _write_atomic, split_input

    batches = []
    if a.input:
        try:
            batches = split_input({
                "input_path": a.input, "input_kind": a.kind,
                "settings": {"mini_batch_size": a.size,
                             "batch_by": a.batch_by,
                             "mini_batch_files": 10}})
        except (OSError, RuntimeError, ValueError) as e:
            log("cannot split the input '%s': %s" % (a.input, e))
            return 2
    shards = Shards(batches, a.max_losses)
    ip = os.environ.get("PIPEC_POD_IP", "")
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    Server.address_family = family
    server = Server((ip, a.port), Handler)
    server.shards = shards
    threading.Thread(target=server.serve_forever, daemon=True).start()
    address = ip or socket.gethostbyname(socket.gethostname())
    if ":" in address:
        address = "[%s]" % address
    os.makedirs(os.path.dirname(a.addr_file) or ".", exist_ok=True)
    _write_atomic(a.addr_file, b"tcp:%s:%d\n" % (address.encode(),
                                                   server.server_address[1]))
    log("%d shards of '%s', serving at %s:%d" % (len(batches), a.input,
                                                address,
                                                server.server_address[1]))
    if a.job:
        try:
            mark_ready(a.job, a.namespace)
        except Exception as e:  # noqa: BLE001 - any failure ends the job
            log("cannot mark the job %s ready: %s" % (a.job, e))
            return 2
        log("marked %s ready" % a.job)
    with shards.lock:
        while True:
            now = time.monotonic()
            if shards.done():
                if len(shards.told_done) >= a.workers:
                    break
                if shards.clients == 0 and now - shards.last_seen > a.linger:
                    break
            elif shards.clients == 0 and now - shards.last_seen > \
                    a.idle_timeout:
                log("%d shards left and no worker for %d s"
                    % (len(shards.outstanding), a.idle_timeout))
                return 3
            shards.changed.wait(1.0)
        given_up = list(shards.given_up)
        finished, requeues = shards.finished, shards.requeues
    server.shutdown()
    log("%d shards finished, %d given back by workers that died, %d given "
        "up" % (finished, requeues, len(given_up)))
    if given_up:
        for k in given_up:
            log("shard %d at %s was lost with %d workers"
                % (k, label(batches[k]), a.max_losses))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
