# The worker of a pipec parallel step: loads an Azure ML style entry script and
# runs the mini-batches the engine sends.
#
# Standard library only; pandas is used when it can be imported.
#
# Started by the engine as `PYTHON pipec_harness.py CONFIG.json WORKER_INDEX`
# with these descriptors:
#   3  requests, one JSON line per mini-batch: [seq, index, payload]
#      payload: a list of file paths, {"p": paths, "pk": keys} for a
#      partition of a folder, or a table slice (see pipec_tables.py)
#   4  replies, frames of a header line and a body of `n` bytes:
#      "R\n"                       init() done, ready for mini-batches
#      "I n\n" body                loading the script or init() failed
#      "K seq given ok n\n" body   run() returned `ok` items of `given`;
#                                  body: the rows for append_row_to
#      "E seq n\n" body            run() or loading the mini-batch raised
#   5  a shared page: slot 0 holds 2*k (loading mini-batch k) or 2*k+1
#      (running it), k counting from 1; the engine times each phase from it.
# stdout and stderr are the worker's log; the entry script may print freely.
# PIPEC_WORKER_INDEX, PIPEC_INSTANCE_INDEX and PIPEC_WORKER_COUNT say which
# worker this is.
# EOF on 3 ends the loop: shutdown() runs and the process exits 0.
import os
import sys

REQ_FD, REPLY_FD, SLOT_FD = 3, 4, 5


def write_all(data):
    view = memoryview(data)
    while view:
        n = os.write(REPLY_FD, view)
        view = view[n:]


class Replies:
    """Replies waiting to be written, in order. The main loop writes them in
    bulk when it has no request left to read; a thread writes whatever has
    waited 2 ms, so a fast mini-batch's reply is not held back by a slow one
    that follows it."""

    def __init__(self):
        import collections
        import threading

        self.queue = collections.deque()  # append/popleft are atomic
        self.lock = threading.Lock()      # one writer at a time keeps order
        self.waiting = threading.Event()
        thread = threading.Thread(target=self._run, daemon=True)
        thread.start()

    def add(self, frame_bytes):
        if not self.queue:
            self.waiting.set()
        self.queue.append(frame_bytes)

    def flush(self):
        with self.lock:
            chunks = []
            try:
                while True:
                    chunks.append(self.queue.popleft())
            except IndexError:
                pass
            if chunks:
                write_all(b"".join(chunks))

    def _run(self):
        import time

        while True:
            self.waiting.wait()
            self.waiting.clear()
            while self.queue:
                time.sleep(0.002)
                self.flush()


def frame(header, body=b""):
    return b"%s %d\n" % (header, len(body)) + body


class MiniBatchContext:
    """The second argument of a two-parameter run()."""

    def __init__(self, index, partition_key_value):
        self.minibatch_index = index
        self.partition_key_value = partition_key_value

    def __repr__(self):
        return "MiniBatchContext(minibatch_index=%r, partition_key_value=%r)" % (
            self.minibatch_index,
            self.partition_key_value,
        )


def install_entry_script_shim(cfg, logger):
    """Provides azureml_user.parallel_run.EntryScript when Azure's is absent."""
    try:
        import azureml_user.parallel_run  # noqa: F401

        return
    except ImportError:
        pass
    import types

    class EntryScript:
        """What Azure ML entry scripts use from EntryScript()."""

        def __init__(self):
            self.logger = logger
            self.output_dir = cfg["output_dir"]
            self.working_dir = cfg["code_dir"]
            self.log_dir = cfg["log_dir"]
            self.node_id = str(cfg["instance_index"])
            self.process_name = "worker-%d" % cfg["worker_index"]

        def get_logger(self, name=None):
            return logger if name is None else logger.getChild(name)

    pkg = types.ModuleType("azureml_user")
    pkg.__path__ = []
    mod = types.ModuleType("azureml_user.parallel_run")
    mod.EntryScript = EntryScript
    pkg.parallel_run = mod
    sys.modules["azureml_user"] = pkg
    sys.modules["azureml_user.parallel_run"] = mod


def load_entry_script(entry, code_dir):
    import importlib
    import importlib.util

    if entry.endswith(".py") or "/" in entry:
        path = entry if os.path.isabs(entry) else os.path.join(code_dir, entry)
        if not os.path.isfile(path):
            raise FileNotFoundError("entry script '%s' not found (looked for %s)"
                                    % (entry, path))
        name = os.path.splitext(os.path.basename(path))[0]
        for d in (code_dir, os.path.dirname(os.path.abspath(path))):
            if d not in sys.path:
                sys.path.insert(0, d)
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module
    if code_dir not in sys.path:
        sys.path.insert(0, code_dir)
    return importlib.import_module(entry)


def takes_context(fn):
    import inspect

    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = 0
    for p in params:
        if p.kind == p.VAR_POSITIONAL:
            return True
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            positional += 1
    return positional >= 2


def main():
    import json
    import logging
    import mmap
    import traceback

    cfg_path, worker_index = sys.argv[1], int(sys.argv[2])
    with open(cfg_path, encoding="utf-8") as fh:
        cfg = json.load(fh)
    cfg["worker_index"] = worker_index
    cfg["instance_index"] = worker_index // max(1, cfg["per_instance"])
    os.environ["PIPEC_WORKER_INDEX"] = str(worker_index)
    os.environ["PIPEC_INSTANCE_INDEX"] = str(cfg["instance_index"])
    for fd in (REQ_FD, REPLY_FD, SLOT_FD):
        os.set_inheritable(fd, False)
    slot = memoryview(mmap.mmap(SLOT_FD, mmap.PAGESIZE)).cast("q")

    logging.basicConfig(
        level=getattr(logging, cfg["logging_level"], logging.INFO),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logger = logging.getLogger("entry_script")
    install_entry_script_shim(cfg, logger)

    entry = cfg["entry_script"]
    sys.argv = [entry] + list(cfg["program_arguments"])
    tables = None
    try:
        if cfg["input_kind"] == "table":
            from pipec_tables import Tables

            tables = Tables.with_pandas()
        module = load_entry_script(entry, cfg["code_dir"])
        run = getattr(module, "run", None)
        if not callable(run):
            raise AttributeError("entry script '%s' has no run() function"
                                 % entry)
        init = getattr(module, "init", None)
        if callable(init):
            init()
    except BaseException:
        text = traceback.format_exc()
        sys.stderr.write(text)
        sys.stderr.flush()
        write_all(frame(b"I", text.encode("utf-8", "replace")))
        os._exit(3)
    write_all(b"R\n")

    with_context = takes_context(run)
    append = cfg["append_rows"]
    loads = json.loads
    replies = Replies()
    add = replies.add
    begun = 0
    buf = b""
    while True:
        try:
            data = os.read(REQ_FD, 1 << 16)
        except InterruptedError:
            continue
        if not data:
            break
        buf += data
        lines = buf.split(b"\n")
        buf = lines.pop()
        for line in lines:
            begun += 1
            slot[0] = begun * 2
            seq, index, payload = loads(line)
            try:
                keys = None
                if isinstance(payload, list):
                    batch = payload
                elif "p" in payload:
                    batch = payload["p"]
                    keys = payload.get("pk")
                else:
                    batch = tables.load(payload)
                    keys = payload.get("pk")
                given = len(batch)
                if with_context:
                    kv = {}
                    if keys is not None:
                        if tables is not None:
                            kv = tables.key_values(batch, keys["k"], keys["v"])
                        else:
                            kv = dict(zip(keys["k"], keys["v"]))
                    context = MiniBatchContext(index, kv)
                    slot[0] = begun * 2 + 1
                    result = run(batch, context)
                else:
                    slot[0] = begun * 2 + 1
                    result = run(batch)
                if type(result) is list or type(result) is tuple:
                    ok = len(result)
                    body = b""
                    if append and ok:
                        body = ("\n".join(map(str, result)) + "\n").encode(
                            "utf-8", "surrogateescape")
                elif type(result).__name__ == "DataFrame" and hasattr(
                        result, "to_csv"):
                    ok = len(result)
                    body = b""
                    if append and ok:
                        try:
                            text = result.to_csv(sep=" ", header=False,
                                                 index=False,
                                                 lineterminator="\n")
                        except TypeError:
                            text = result.to_csv(sep=" ", header=False,
                                                 index=False,
                                                 line_terminator="\n")
                        body = text.encode("utf-8", "surrogateescape")
                elif (result is None or isinstance(result, (str, bytes, dict))
                      or not hasattr(result, "__len__")):
                    raise TypeError(
                        "run() returned %s; it must return a list, a tuple or "
                        "a pandas DataFrame with one element per item that "
                        "succeeded" % type(result).__name__)
                else:
                    ok = len(result)
                    body = b""
                    if append and ok:
                        body = ("\n".join(map(str, result)) + "\n").encode(
                            "utf-8", "surrogateescape")
                add(b"K %d %d %d %d\n%s" % (seq, given, min(ok, given),
                                            len(body), body))
            except Exception:
                text = traceback.format_exc()
                sys.stderr.write("mini-batch %d failed:\n%s" % (index, text))
                sys.stderr.flush()
                add(frame(b"E %d" % seq, text.encode("utf-8", "replace")))
        replies.flush()
    shutdown = getattr(module, "shutdown", None)
    if callable(shutdown):
        try:
            shutdown()
        except Exception:
            traceback.print_exc()
    sys.stdout.flush()
    sys.stderr.flush()


if __name__ == "__main__":
    main()
