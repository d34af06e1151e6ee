# The ElasticBatch client: shards of the data input, fetched from pipec (the
# AIMaster) over a local socket, or over TCP on Kubernetes.
#
#     from pipec_elasticbatch import shards
#     for shard in shards():
#         ...  # a list of file paths, or a table's rows (a pandas DataFrame,
#              # or a list of dicts without pandas)
#
# Shards are the component's data input split as a parallel step splits its
# input_data. Asking for the next shard reports the previous one finished; a
# shard held by a worker that dies first goes back to the queue for another
# worker. The AIMaster's address is in PIPEC_AIMASTER_ADDR ("unix:PATH" or
# "tcp:HOST:PORT"); `pipec run` sets it, and puts this module on PYTHONPATH,
# for the workers of an elasticbatch step. On Kubernetes the AIMaster pod
# (pipec_aimaster.py) writes "tcp:IP:PORT" to a file on the run's claim,
# named by PIPEC_AIMASTER_ADDR_FILE. Standard library only.
import json
import os
import socket
import time


class Shard:
    """One shard: `data` is what the worker processes."""

    def __init__(self, shard_id, index, payload, tables):
        self.id = shard_id
        self.index = index
        self.partition_key_value = {}
        if isinstance(payload, list):
            self.data = payload
        elif "p" in payload:
            self.data = payload["p"]
        else:
            self.data = tables.load(payload)
        keys = payload.get("pk") if isinstance(payload, dict) else None
        if keys:
            self.partition_key_value = tables.key_values(
                self.data, keys["k"], keys["v"]) if tables else dict(
                    zip(keys["k"], keys["v"]))


def _task_index():
    """The worker's index in ELASTICBATCH_CONFIG, else "0"."""
    for name in ("ELASTICBATCH_CONFIG", "ElASTICBATCH_CONFIG"):
        try:
            return str(json.loads(os.environ[name])["task"]["index"])
        except (KeyError, TypeError, ValueError):
            continue
    return "0"


def _address():
    """PIPEC_AIMASTER_ADDR, else the first line of the file named by
    PIPEC_AIMASTER_ADDR_FILE (waiting a while for it: the claim may show
    it late)."""
    address = os.environ.get("PIPEC_AIMASTER_ADDR")
    if address:
        return address
    path = os.environ.get("PIPEC_AIMASTER_ADDR_FILE")
    if not path:
        raise KeyError("PIPEC_AIMASTER_ADDR")
    for _ in range(600):
        try:
            with open(path) as fh:
                text = fh.read().strip()
            if text:
                return text
        except FileNotFoundError:
            pass
        time.sleep(0.1)
    raise ConnectionError("no AIMaster address in %s" % path)


class Client:
    """A connection to the AIMaster."""

    def __init__(self, address=None, worker=None):
        address = address or _address()
        if address.startswith("unix:"):
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.connect(address[len("unix:"):])
        elif address.startswith("tcp:"):
            host, _, port = address[len("tcp:"):].rpartition(":")
            self.sock = socket.create_connection((host.strip("[]"),
                                                  int(port)), timeout=60)
            self.sock.settimeout(None)
        else:
            raise ValueError("unsupported AIMaster address %r" % address)
        self.file = self.sock.makefile("rwb")
        if worker is None:
            worker = os.environ.get("PIPEC_WORKER_INDEX") or _task_index()
        self._send("HELLO %s" % worker)
        self.tables = None

    def _send(self, line):
        self.file.write(line.encode() + b"\n")
        self.file.flush()

    def next_shard(self):
        """The next shard, or None when every shard is finished."""
        while True:
            self._send("NEXT")
            line = self.file.readline()
            if not line:
                raise ConnectionError("the AIMaster closed the connection")
            kind, _, rest = line.decode().rstrip("\n").partition(" ")
            if kind == "D":
                return None
            if kind == "W":
                time.sleep(int(rest) / 1000.0)
                continue
            if kind != "S":
                raise ConnectionError("unexpected reply %r" % line)
            shard_id, index, payload = rest.split(" ", 2)
            payload = json.loads(payload)
            if isinstance(payload, dict) and "f" in payload and not self.tables:
                from pipec_tables import Tables

                self.tables = Tables.with_pandas()
            return Shard(int(shard_id), int(index), payload, self.tables)

    def close(self):
        self.file.close()
        self.sock.close()


def iter_shards(address=None):
    """Yields Shard objects until every shard is finished."""
    client = Client(address)
    try:
        while True:
            shard = client.next_shard()
            if shard is None:
                return
            yield shard
    finally:
        client.close()


def shards(address=None):
    """Yields each shard's data until every shard is finished."""
    for shard in iter_shards(address):
        yield shard.data
