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


def start_logging(cfg):
    """The entry script's logger on stderr, and Azure's EntryScript shim."""
    import logging

    logging.basicConfig(
        level=getattr(logging, cfg["logging_level"], logging.INFO),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logger = logging.getLogger("entry_script")
    install_entry_script_shim(cfg, logger)


def load_task(cfg):
    """Loads the entry script of `cfg` with its program arguments and runs
    init(): (module, run, tables)."""
    entry = cfg["entry_script"]
    sys.argv = [entry] + list(cfg["program_arguments"])
    tables = None
    if cfg["input_kind"] == "table":
        from pipec_tables import Tables

        tables = Tables.with_pandas()
    module = load_entry_script(entry, cfg["code_dir"])
    run = getattr(module, "run", None)
    if not callable(run):
        raise AttributeError("entry script '%s' has no run() function" % entry)
    init = getattr(module, "init", None)
    if callable(init):
        init()
    return module, run, tables


def run_batch(run, with_context, tables, append, index, payload, running):
    """Runs mini-batch `index` (a request's payload): (items given, items
    that succeeded, the rows for append_row_to as bytes). Raises what run()
    or loading the mini-batch raised. `running()` marks the start of run()."""
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
        running()
        result = run(batch, context)
    else:
        running()
        result = run(batch)
    if type(result) is list or type(result) is tuple:
        ok = len(result)
        body = b""
        if append and ok:
            body = ("\n".join(map(str, result)) + "\n").encode(
                "utf-8", "surrogateescape")
    elif type(result).__name__ == "DataFrame" and hasattr(result, "to_csv"):
        ok = len(result)
        body = b""
        if append and ok:
            try:
                text = result.to_csv(sep=" ", header=False, index=False,
                                     lineterminator="\n")
            except TypeError:
                text = result.to_csv(sep=" ", header=False, index=False,
                                     line_terminator="\n")
            body = text.encode("utf-8", "surrogateescape")
    elif (result is None or isinstance(result, (str, bytes, dict))
          or not hasattr(result, "__len__")):
        raise TypeError(
            "run() returned %s; it must return a list, a tuple or a pandas "
            "DataFrame with one element per item that succeeded"
            % type(result).__name__)
    else:
        ok = len(result)
        body = b""
        if append and ok:
            body = ("\n".join(map(str, result)) + "\n").encode(
                "utf-8", "surrogateescape")
    return given, min(ok, given), body


def main():
    import json
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

    start_logging(cfg)
    try:
        module, run, tables = load_task(cfg)
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
                given, ok, body = run_batch(
                    run, with_context, tables, append, index, payload,
                    lambda: slot.__setitem__(0, begun * 2 + 1))
                add(b"K %d %d %d %d\n%s" % (seq, given, ok, len(body), body))
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


# --- Indexed mode: a parallel step on Kubernetes (backends/k8s) -------------
# `--indexed CONFIG` is pod JOB_COMPLETION_INDEX=i of N (an Indexed Job): it
# splits the input with pipec_split.py as every pod does (the engine's
# mini-batches, the same list everywhere: files, folders and tables with
# partition_keys, MLTable files with every transformation pipec run
# applies; partition files in a scratch folder of the pod), takes
# mini-batches i, i+N, i+2N, ..., skips those already committed, and runs
# the rest in `per_instance` processes (`--indexed-worker CONFIG J PER
# LISTING`, LISTING the pod's split), each committing every mini-batch on
# the shared volume (written, synced, renamed). `--gather CONFIG` checks
# that every mini-batch was committed, applies the error thresholds and
# writes append_row_to in mini-batch order. Commits live under
# state_dir/<key>, the key a hash of the mini-batches (and of partition
# part files), the entry script and the program arguments, so a run over
# other data never reuses them.

def split_input(cfg, scratch=None):
    """Every mini-batch of the step, in order, as the payloads the worker
    loop takes (the same list in every pod): pipec_split's, the engine's
    own. Partition files go under `scratch` (a temporary folder when
    None). Raises pipec_split.SplitError in the engine's words."""
    return [p for p, _ in _split(cfg, scratch)]


def _split(cfg, scratch=None):
    """[(payload, items)] of pipec_split."""
    import tempfile

    from pipec_split import split

    if scratch is None:
        scratch = tempfile.mkdtemp(prefix="pipec-split-")
    made, _ = split(cfg["input_path"], cfg["input_kind"], cfg["settings"],
                    scratch)
    return made


def _commit_dir(cfg, made, scratch):
    import hashlib
    import json

    # Paths relative to the input (and the pod's scratch folder, where
    # partition files are): the key is the data's, not the mount's; the
    # partition files' bytes are part of it.
    h = hashlib.sha256()
    text = json.dumps([cfg["entry_script"], cfg["program_arguments"], made],
                      sort_keys=True)
    for where in (cfg["input_path"], scratch):
        text = text.replace(json.dumps(where)[1:-1], "")
    h.update(text.encode())
    mount = cfg["input_path"].encode("utf-8", "surrogateescape")
    for p, _ in made:
        if isinstance(p, dict) and "pk" in p and "f" in p:
            with open(p["f"], "rb") as fh:
                body = fh.read().replace(mount, b"")
            h.update(hashlib.sha256(body).digest())
    return os.path.join(cfg["state_dir"], h.hexdigest()[:16])


def _write_atomic(path, data):
    tmp = "%s.tmp-%d" % (path, os.getpid())
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.rename(tmp, path)


def _committed(state, k):
    return (os.path.exists(os.path.join(state, "done", str(k))) or
            os.path.exists(os.path.join(state, "failed", str(k))))


def _load_cfg(path):
    import json

    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def indexed_pod(cfg_path):
    """One pod of the Indexed Job: splits the input once (into a scratch
    folder of the pod), then its processes run its mini-batches."""
    import json
    import shutil
    import subprocess
    import tempfile

    from pipec_split import SplitError

    cfg = _load_cfg(cfg_path)
    index = int(os.environ.get("JOB_COMPLETION_INDEX", "0"))
    scratch = tempfile.mkdtemp(prefix="pipec-split-")
    try:
        try:
            made = _split(cfg, scratch)
        except SplitError as e:
            sys.stderr.write("the parallel step failed: %s.\n"
                             % str(e).rstrip("."))
            return 1
        state = _commit_dir(cfg, made, scratch)
        for d in ("done", "failed"):
            os.makedirs(os.path.join(state, d), exist_ok=True)
        # What the gather reads instead of the input, which it does not
        # mount.
        _write_atomic(os.path.join(state, "count"), b"%d\n" % len(made))
        _write_atomic(os.path.join(cfg["state_dir"], "current"),
                      os.path.basename(state).encode())
        n = max(1, int(cfg["instance_count"]))
        left = [k for k in range(index, len(made), n)
                if not _committed(state, k)]
        sys.stderr.write("pod %d of %d: %d mini-batches of %d left\n"
                         % (index, n, len(left), len(made)))
        if not left:
            return 0
        listing = os.path.join(scratch, "batches.json")
        with open(listing, "w", encoding="utf-8") as fh:
            json.dump({"state": state, "batches": made}, fh)
        per = max(1, int(cfg["per_instance"]))
        procs = [subprocess.Popen([sys.executable, os.path.abspath(__file__),
                                   "--indexed-worker", cfg_path, str(j),
                                   str(per), listing]) for j in range(per)]
        codes = [p.wait() for p in procs]
        return 0 if all(c == 0 for c in codes) else 3
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def indexed_worker(cfg_path, j, per, listing):
    """Process j of `per` in a pod: runs its share of the pod's mini-batches
    (`listing`: what the pod split) and commits each."""
    import json
    import traceback

    cfg = _load_cfg(cfg_path)
    index = int(os.environ.get("JOB_COMPLETION_INDEX", "0"))
    n = max(1, int(cfg["instance_count"]))
    with open(listing, encoding="utf-8") as fh:
        split = json.load(fh)
    state = split["state"]
    batches = [p for p, _ in split["batches"]]
    items = [k for _, k in split["batches"]]
    # The pod's mini-batches dealt in a fixed order, so that what a process
    # takes never depends on what the others committed before it started.
    mine = [k for k in list(range(index, len(batches), n))[j::per]
            if not _committed(state, k)]
    cfg["worker_index"] = index * per + j
    cfg["instance_index"] = index
    os.environ["PIPEC_WORKER_INDEX"] = str(cfg["worker_index"])
    os.environ["PIPEC_INSTANCE_INDEX"] = str(index)
    start_logging(cfg)
    _, run, tables = load_task(cfg)
    with_context = takes_context(run)
    tries = 1 + max(0, int(cfg["settings"].get("max_retries", 0)))
    for k in mine:
        for attempt in range(tries):
            try:
                given, ok, body = run_batch(run, with_context, tables,
                                            cfg["append_rows"], k,
                                            batches[k], lambda: None)
                _write_atomic(os.path.join(state, "done", str(k)),
                              b"%d %d\n" % (given, ok) + body)
                break
            except Exception:
                text = traceback.format_exc()
                sys.stderr.write("mini-batch %d failed:\n%s" % (k, text))
                if attempt + 1 == tries:
                    given = items[k]
                    _write_atomic(os.path.join(state, "failed", str(k)),
                                  b"%d\n" % given + text.encode("utf-8",
                                                                 "replace"))
    return 0


def gather(cfg_path):
    """After every pod: thresholds, then append_row_to in mini-batch order."""
    cfg = _load_cfg(cfg_path)
    settings = cfg["settings"]
    try:
        with open(os.path.join(cfg["state_dir"], "current")) as fh:
            state = os.path.join(cfg["state_dir"], fh.read().strip())
        with open(os.path.join(state, "count")) as fh:
            count = int(fh.read())
    except (OSError, ValueError) as e:
        sys.stderr.write("no pod of this step ran: %s\n" % e)
        return 1
    failed_batches = failed_items = 0
    parts = []
    for k in range(count):
        done = os.path.join(state, "done", str(k))
        if os.path.exists(done):
            with open(done, "rb") as fh:
                head, _, body = fh.read().partition(b"\n")
            given, ok = map(int, head.split())
            # A short return fails its mini-batch only when failed items
            # are checked (error_threshold >= 0), as in the engine.
            if ok < given and int(settings.get("error_threshold", -1)) >= 0:
                failed_items += given - ok
                failed_batches += 1
            parts.append(body)
        elif os.path.exists(os.path.join(state, "failed", str(k))):
            with open(os.path.join(state, "failed", str(k)), "rb") as fh:
                failed_items += int(fh.readline())
            failed_batches += 1
        else:
            sys.stderr.write("mini-batch %d of %d was never committed\n"
                             % (k, count))
            return 1
    total = max(1, count)
    limits = [("mini_batch_error_threshold", failed_batches),
              ("error_threshold", failed_items)]
    for name, failed in limits:
        limit = int(settings.get(name, -1))
        if limit >= 0 and failed > limit:
            sys.stderr.write("%d failed, more than %s %d\n"
                             % (failed, name, limit))
            return 1
    if 100.0 * failed_batches / total > float(
            settings.get("allowed_failed_percent", 100)):
        sys.stderr.write("%d of %d mini-batches failed, more than "
                         "allowed_failed_percent\n" % (failed_batches, total))
        return 1
    if cfg["append_row_to"]:
        os.makedirs(os.path.dirname(cfg["append_row_to"]), exist_ok=True)
        _write_atomic(cfg["append_row_to"], b"".join(parts))
    sys.stderr.write("gathered %d mini-batches (%d failed)\n"
                     % (count, failed_batches))
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--indexed":
        sys.exit(indexed_pod(sys.argv[2]))
    if len(sys.argv) > 5 and sys.argv[1] == "--indexed-worker":
        sys.exit(indexed_worker(sys.argv[2], int(sys.argv[3]),
                                int(sys.argv[4]), sys.argv[5]))
    if len(sys.argv) > 2 and sys.argv[1] == "--gather":
        sys.exit(gather(sys.argv[2]))
    main()
