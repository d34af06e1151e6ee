# The parallel-step driver of scripts from `pipec compile --target sh`: splits
# the input into the mini-batches `pipec internal-parallel-step` makes, runs
# them on pipec_harness.py workers (the same harness, the same protocol) and
# gathers append_row_to in mini-batch order.
#
# Run as `python3 pipec_sh_parallel.py SPEC.json RUN_DIR` from the step's
# working folder with the step's environment. Standard library only. The
# mini-batches are pipec_split.py's, the engine's own (files, folders with
# partition_keys, tables of every encoding, MLTable files with every
# transformation pipec run applies, partition_keys over tables); what the
# engine refuses is refused in its words. What it does not do that the
# engine does: per mini-batch timeouts, resume, the progress and resource
# logs.
import json
import os
import select
import sys
import tempfile

RUN = "\x01PIPEC_RUN\x01"


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
        os.makedirs(logs, exist_ok=True)
        with open(result_path, "w", encoding="utf-8") as fh:
            fh.write(sentence + "\n")
            if warning:
                fh.write("warning: %s [W1230]\n" % warning)
        print(sentence, flush=True)
        return code

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from pipec_split import SplitError, split

    try:
        made, kind = split(spec["input_path"], spec["input_type"], st,
                           os.path.join(spec["state_dir"], "scratch"))
    except SplitError as e:
        return finish("Step '%s' failed: %s." % (name, str(e).rstrip(".")), 1)
    except OSError as e:
        return finish("Step '%s' failed: %s." % (name, e), 1)
    batches = [p for p, _ in made]
    items = [n for _, n in made]
    table = kind == "table"

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
        failed_items += items[b]
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
