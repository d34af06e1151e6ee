# The parallel-step driver of scripts from `pipec compile --target sh`: splits
# the input into the mini-batches `pipec internal-parallel-step` makes, runs
# them on pipec_harness.py workers (the same harness, the same protocol) and
# gathers append_row_to in mini-batch order.
#
# Run as `python3 pipec_sh_parallel.py SPEC.json RUN_DIR` from the step's
# working folder with the step's environment. Standard library only (PyYAML
# for MLTable files). What it does not do that the engine does: per
# mini-batch timeouts, resume, partition_keys, UTF-16/32 tables, the
# progress and resource logs; it says so and fails where the input needs one.
import json
import os
import select
import sys
import tempfile

RUN = "\x01PIPEC_RUN\x01"
TABLE_EXT = (".jsonl", ".ndjson", ".json", ".csv", ".tsv")


class Failure(Exception):
    pass


def listed(root):
    """Files under root, relative, in byte order (links followed, a link
    back into the walk skipped), as the engine lists them."""
    import stat as st_mod

    out = []
    above = set()

    def walk(path, rel):
        st = os.stat(path)
        key = (st.st_dev, st.st_ino)
        if key in above:
            return
        above.add(key)
        for name in os.listdir(path):
            full = os.path.join(path, name)
            try:
                st = os.stat(full)
            except OSError:
                continue  # a dangling link
            if st_mod.S_ISREG(st.st_mode):
                out.append(os.fsencode(rel + name))
            elif st_mod.S_ISDIR(st.st_mode):
                walk(full, rel + name + "/")
        above.discard(key)

    walk(root, "")
    out.sort()
    return [os.fsdecode(p) for p in out]


def table_file(path, rel):
    low = path.lower()
    return {"path": path, "rel": rel,
            "jsonl": low.endswith((".jsonl", ".ndjson", ".json")),
            "sep": "\t" if low.endswith(".tsv") else ",", "header": "each",
            "enc": None}


def read_mltable(folder):
    try:
        import yaml
    except ImportError:
        raise Failure("reading %s/MLTable needs PyYAML (python3-yaml)"
                      % folder)
    with open(os.path.join(folder, "MLTable"), encoding="utf-8") as fh:
        doc = yaml.safe_load(fh)
    proto = {}
    for step in doc.get("transformations") or []:
        name, args = (step, {}) if isinstance(step, str) else next(
            iter(step.items()))
        args = args or {}
        if name == "read_delimited":
            proto["jsonl"] = False
            d = str(args.get("delimiter", ",") or ",")
            proto["sep"] = "\t" if d in ("\\t", "tab") else d
            h = args.get("header") or "all_files_same_headers"
            proto["header"] = {"from_first_file": "first",
                               "no_header": "none"}.get(h, "each")
        elif name == "read_json_lines":
            proto["jsonl"] = True
        else:
            raise Failure("transformation '%s' is not supported" % name)
        if args.get("encoding"):
            proto["enc"] = str(args["encoding"])
    files = []
    for entry in doc.get("paths") or []:
        kind, where = next(iter(entry.items()))
        rel = where
        while rel.startswith("./"):
            rel = rel[2:]
        full = rel if os.path.isabs(rel) else os.path.join(folder, rel)
        found = []
        if kind == "pattern":
            import fnmatch

            found = [table_file(os.path.join(folder, r), r)
                     for r in listed(folder)
                     if os.path.basename(r) != "MLTable"
                     and fnmatch.fnmatchcase(r, rel)]
        elif os.path.isdir(full):
            found = [table_file(os.path.join(full, r), rel + "/" + r)
                     for r in listed(full) if os.path.basename(r) != "MLTable"]
        else:
            found = [table_file(full, rel)]
        for t in found:
            t.update({k: v for k, v in proto.items()})
            files.append(t)
    return files


def mltable_file_list(path):
    """The files of an MLTable that only lists paths (no read_delimited,
    no read_json_lines): run() gets their paths. None for anything else."""
    folder = path.rstrip("/") or "/"
    if not os.path.isfile(os.path.join(folder, "MLTable")):
        return None
    try:
        import yaml
    except ImportError:
        raise Failure("reading %s/MLTable needs PyYAML (python3-yaml)"
                      % folder)
    with open(os.path.join(folder, "MLTable"), encoding="utf-8") as fh:
        doc = yaml.safe_load(fh) or {}
    names = [step if isinstance(step, str) else next(iter(step))
             for step in doc.get("transformations") or []]
    if "read_delimited" in names or "read_json_lines" in names:
        return None
    return [t["path"] for t in read_mltable(folder)]


def file_list_batches(names, count, size):
    """`count` files per mini-batch, or (count 0) files up to `size`
    bytes."""
    if count:
        for i in range(0, len(names), count):
            yield names[i:i + count]
        return
    cur, total = [], 0
    for n in names:
        cur.append(n)
        total += os.path.getsize(n)
        if total >= size:
            yield cur
            cur, total = [], 0
    if cur:
        yield cur


def table_files(path):
    folder = path.rstrip("/") or "/"
    if not os.path.isdir(folder):
        return [table_file(path, os.path.basename(path))]
    if os.path.exists(os.path.join(folder, "MLTable")):
        return read_mltable(folder)
    return [table_file(os.path.join(folder, r), r) for r in listed(folder)
            if r.lower().endswith(TABLE_EXT)
            and os.path.basename(r) != "MLTable"]


CODECS = {"utf8": "utf-8", "utf-8": "utf-8", "ascii": "ascii",
          "latin1": "latin-1", "latin-1": "latin-1", "iso88591": "latin-1",
          "iso-8859-1": "latin-1", "windows1252": "cp1252",
          "cp1252": "cp1252", "windows-1252": "cp1252"}


def rows(data, start, quotes):
    """(begin, end, blank) of each row of data from start: rows end at LF,
    CRLF or a lone CR (outside double quotes when quotes)."""
    n = len(data)
    i = start
    while i < n:
        begin = i
        inq = False
        while i < n:
            c = data[i]
            if c == 0x22 and quotes:
                inq = not inq
            elif (c == 0x0A or c == 0x0D) and not inq:
                break
            i += 1
        body_end = i
        if i < n:
            i += 2 if data[i] == 0x0D and i + 1 < n and data[i + 1] == 0x0A \
                else 1
        yield begin, i, body_end


def table_batches(path, size):
    for t in table_files(path):
        with open(t["path"], "rb") as fh:
            data = fh.read()
        if data[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff") or \
                data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            raise Failure("table '%s' is UTF-16/32 text, which the sh target "
                          "does not split; run it with 'pipec run'" % t["path"])
        start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
        enc = t["enc"]
        codec = "utf-8" if enc is None else CODECS.get(
            enc.lower().replace("_", ""), None)
        if codec is None:
            raise Failure("table '%s': encoding '%s' is not supported by the "
                          "sh target" % (t["path"], enc))
        sep = t["sep"].encode("latin-1")
        it = rows(data, start, not t["jsonl"])
        header = None
        has_header = not t["jsonl"] and t["header"] != "none"
        if has_header and t["header"] == "first":
            raise Failure("header: from_first_file is not supported by the sh "
                          "target; run the step with 'pipec run'")
        if has_header:
            for b, e, body in it:
                header = data[b:body].decode(codec) + "\n"
                break
        pending = []
        for b, e, body in it:
            pending.append((b, e, body))
            if pending[-1][1] - pending[0][0] >= size:
                yield slice_of(t, data, pending, header, has_header, codec,
                               sep)
                pending = []
        if pending:
            yield slice_of(t, data, pending, header, has_header, codec, sep)


def slice_of(t, data, rs, header, has_header, codec, sep):
    items = 0
    for b, e, body in rs:
        line = data[b:body]
        if line.strip(b" \t".replace(sep, b"")):
            items += 1
    if items == 0:
        return None
    p = {"f": t["path"], "b": rs[0][0], "e": rs[-1][1], "n": items,
         "fmt": "jsonl" if t["jsonl"] else "csv"}
    if not t["jsonl"]:
        p["sep"] = t["sep"]
        p["h"] = header if has_header else None
    p["enc"] = codec
    return p


def folder_batches(path, per_batch):
    root = path.rstrip("/") or "/"
    if not os.path.isdir(root):
        yield [path]
        return
    names = listed(root)
    per_batch = max(1, per_batch)
    for i in range(0, len(names), per_batch):
        yield [root + "/" + n for n in names[i:i + per_batch]]


class Worker:
    def __init__(self, index, spec, cfg_path, harness, log):
        self.index = index
        self.busy = None  # (batch index, attempt)
        self.buf = b""
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        page = tempfile.TemporaryFile()
        page.truncate(4096)
        python = spec.get("python") or sys.executable
        env = dict(os.environ)
        env["PIPEC_WORKER_INDEX"] = str(index)
        env.setdefault("PYTHONUNBUFFERED", "1")
        env["PIPEC_WORKER_COUNT"] = str(spec["worker_count"])
        pid = os.fork()
        if pid == 0:
            try:
                import fcntl

                fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND,
                             0o644)
                # Out of the way first: a source may sit on a target.
                high = [fcntl.fcntl(f, fcntl.F_DUPFD, 100 + i) for i, f in
                        enumerate((fd, req_r, rep_w, page.fileno()))]
                for target, f in ((1, high[0]), (2, high[0]), (3, high[1]),
                                  (4, high[2]), (5, high[3])):
                    os.dup2(f, target)
                os.closerange(6, 65536)
                os.execve(python, [python, harness, cfg_path, str(index)],
                          env)
            finally:
                os._exit(127)
        os.close(req_r)
        os.close(rep_w)
        page.close()
        self.pid = pid
        self.req = req_w
        self.rep = rep_r
        self.ready = False

    def send(self, seq, index, payload):
        line = json.dumps([seq, index, payload]).encode() + b"\n"
        while line:
            line = line[os.write(self.req, line):]

    def frames(self):
        """Whole frames read so far: (kind, fields, body)."""
        out = []
        while True:
            nl = self.buf.find(b"\n")
            if nl < 0:
                return out
            head = self.buf[:nl].split()
            if head[0] == b"R":
                self.buf = self.buf[nl + 1:]
                out.append(("R", [], b""))
                continue
            n = int(head[-1])
            if len(self.buf) < nl + 1 + n:
                return out
            body = self.buf[nl + 1:nl + 1 + n]
            self.buf = self.buf[nl + 1 + n:]
            out.append((head[0].decode(), [int(x) for x in head[1:-1]], body))


def main():
    spec_path, run_dir = sys.argv[1], sys.argv[2]
    with open(spec_path, encoding="utf-8") as fh:
        text = fh.read()
    spec = json.loads(text.replace("\\u0001PIPEC_RUN\\u0001",
                                   json.dumps(run_dir)[1:-1]))
    st = spec["settings"]
    name = spec["step_name"]
    logs = spec["logs_dir"]
    result_path = os.path.join(logs, "job_result.txt")

    def finish(sentence, code, warning=""):
        with open(result_path, "w", encoding="utf-8") as fh:
            fh.write(sentence + "\n")
            if warning:
                fh.write("warning: %s [W1230]\n" % warning)
        print(sentence, flush=True)
        return code

    try:
        if st.get("partition_keys"):
            raise Failure("partition_keys is not supported by the sh target; "
                          "run the step with 'pipec run'")
        table = spec["input_type"] == "table"
        listed_files = mltable_file_list(spec["input_path"]) if table \
            else None
        if listed_files is not None:
            table = False  # run() gets file paths
            batches = list(file_list_batches(
                listed_files, st.get("mini_batch_files", 10),
                max(1, st["mini_batch_size"])))
        elif table:
            batches = [p for p in table_batches(spec["input_path"],
                                                st["mini_batch_size"]) if p]
        else:
            batches = list(folder_batches(spec["input_path"],
                                          st["mini_batch_size"]))
    except (Failure, OSError) as e:
        return finish("Step '%s' failed: %s." % (name, str(e).rstrip(".")), 1)

    harness_dir = os.path.join(spec["state_dir"], "harness")
    os.makedirs(os.path.join(logs, "workers"), exist_ok=True)
    append = spec["append_row_to"]
    count = max(1, spec["instance_count"]) * max(
        1, st["max_concurrency_per_instance"])
    spec["worker_count"] = count
    cfg = {"entry_script": spec["entry_script"] or st["entry_script"],
           "code_dir": spec["code_dir"],
           "program_arguments": spec["program_arguments"],
           "input_kind": "table" if table else "files",
           "logging_level": st["logging_level"].upper(),
           "append_rows": bool(append),
           "output_dir": os.path.dirname(append) if append else
           os.path.join(logs, "user"),
           "log_dir": logs,
           "per_instance": st["max_concurrency_per_instance"],
           "worker_count": count}
    cfg_path = os.path.join(harness_dir, "config.json")
    with open(cfg_path, "w", encoding="utf-8") as fh:
        json.dump(cfg, fh, sort_keys=True, separators=(",", ":"))
    harness = os.path.join(harness_dir, "pipec_harness.py")

    bodies = [None] * len(batches)
    attempts = [0] * len(batches)
    failed_items = 0
    failed_batches = 0
    queue = list(range(len(batches)))
    queue.reverse()
    workers = []
    seq = 0
    done = 0
    restarts = 0
    committed = 0
    partial = 0
    short = 0  # short returns, not failures (error_threshold -1)

    def start(i):
        log = os.path.join(logs, "workers", "worker-%d.log" % i)
        return Worker(i, spec, cfg_path, harness, log)

    def failed_batch(b, why):
        nonlocal failed_batches, failed_items, done
        attempts[b] += 1
        if attempts[b] <= st["max_retries"]:
            queue.append(b)
            return
        failed_batches += 1
        failed_items += len(batches[b]) if isinstance(batches[b], list) \
            else batches[b]["n"]
        done += 1

    workers = [start(i) for i in range(count)] if batches else []
    while done < len(batches):
        for w in workers:
            if w.ready and w.busy is None and queue:
                b = queue.pop()
                seq += 1
                w.busy = (b, seq)
                w.send(seq, b, batches[b])
        fds = [w.rep for w in workers]
        readable, _, _ = select.select(fds, [], [])
        for w in list(workers):
            if w.rep not in readable:
                continue
            data = os.read(w.rep, 1 << 16)
            if not data:
                os.close(w.rep)
                os.close(w.req)
                _, status = os.waitpid(w.pid, 0)
                if w.busy is not None:
                    failed_batch(w.busy[0], "worker died")
                restarts += 1
                workers[workers.index(w)] = start(w.index)
                if restarts > 3 * count + len(batches):
                    return finish("Step '%s' failed: its workers keep dying; "
                                  "see logs/workers." % name, 1)
                continue
            w.buf += data
            for kind, fields, body in w.frames():
                if kind == "R":
                    w.ready = True
                elif kind == "I":
                    return finish(
                        "Step '%s' failed: the entry script could not be "
                        "loaded: %s." % (name, body.decode(
                            "utf-8", "replace").strip().splitlines()[-1]), 1)
                elif kind == "K":
                    b = w.busy[0]
                    w.busy = None
                    given, ok = fields[1], fields[2]
                    bodies[b] = body
                    committed += 1
                    # Rows kept; the mini-batch counts as failed only when
                    # failed items are checked (error_threshold >= 0).
                    if ok < given and st.get("error_threshold", -1) >= 0:
                        partial += 1
                        failed_batches += 1
                        failed_items += given - ok
                    elif ok < given:
                        short += 1
                    done += 1
                elif kind == "E":
                    b = w.busy[0]
                    w.busy = None
                    failed_batch(b, body)
        threshold = st["mini_batch_error_threshold"]
        if (threshold >= 0 and failed_batches > threshold) or (
                st["error_threshold"] >= 0
                and failed_items > st["error_threshold"]):
            return finish("Step '%s' failed: %d mini-batches failed (%d "
                          "items), beyond the thresholds." %
                          (name, failed_batches, failed_items), 1)
    for w in workers:
        os.close(w.req)
    for w in workers:
        os.waitpid(w.pid, 0)
        os.close(w.rep)
    total = len(batches)
    if total and failed_batches * 100.0 / total > st["allowed_failed_percent"]:
        return finish("Step '%s' failed: %d of %d mini-batches failed, more "
                      "than allowed_failed_percent %g." %
                      (name, failed_batches, total,
                       st["allowed_failed_percent"]), 1)
    if append:
        with open(append, "wb") as fh:
            for body in bodies:
                if body:
                    fh.write(body)
    succeeded = committed - partial
    sentence = "Step '%s' passed: %d of %d mini-batch%s succeeded" % (
        name, succeeded, total, "" if total == 1 else "es")
    if failed_batches:
        sentence += ", %d failed (%d item%s), within the thresholds" % (
            failed_batches, failed_items, "" if failed_items == 1 else "s")
    if short:
        sentence += ("; %d returned fewer items than they got, not counted as "
                     "failed because error_threshold is -1" % short)
    warning = ""
    if total and succeeded == 0:
        warning = (
            "no mini-batch succeeded: all %d failed, which the thresholds "
            "allow (allowed_failed_percent 100, Azure's default, never fails "
            "a step); set allowed_failed_percent or mini_batch_error_threshold "
            "to fail it, or run 'pipec run --strict'" % total)
        print("warning: parallel step '%s' passed, but %s" % (name, warning),
              file=sys.stderr, flush=True)
    return finish(sentence + ".", 0, warning)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
