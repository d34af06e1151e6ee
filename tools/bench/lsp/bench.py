#!/usr/bin/env python3
# Language-server latency and memory (a benchmark, not a test): pipec lsp on
# a 5,000-line .pipe file and a 200-job pipeline YAML, and
# yaml-language-server (npm) on the same YAML edit in the same run.
# Usage: bench.py PIPEC [--rounds N] [--yaml-ls PATH/TO/bin/yaml-language-server]
import json
import os
import select
import statistics
import subprocess
import sys
import tempfile
import time


def gen_pipe(path, components=300, steps=1300):
    lines = []
    for c in range(components):
        lines += [
            f"// Component {c}: reads a folder and a table, writes a model.",
            f"component c{c} {{",
            f'  version "1.0.{c}"',
            f'  description "component number {c}"',
            '  image "python:3.11-slim"',
            f'  command "python3 run.py --data $<<inputs.data>> --lr $<<parameters.lr>>"',
            '      " --out $<<outputs.model>>"',
            "  in data: folder",
            "  out model: folder",
            "  param lr: float = 0.01 in 0..1",
            f'  param mode: string = "fast" in {{ "fast", "slow" }}',
            "}",
        ]
    lines.append("pipeline big(raw: folder, rate: float = 0.5) -> (final: folder) {")
    for s in range(steps):
        src = "raw" if s == 0 else f"s{s - 1}.model"
        lines.append(f"  s{s} = c{s % components}(data: {src}, lr: rate)")
    lines.append(f"  final = s{steps - 1}.model")
    lines.append("}")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return len(lines)


def gen_yaml(folder, name="pipeline.yaml", jobs=200):
    with open(os.path.join(folder, "train.yaml"), "w") as f:
        f.write("name: train\nversion: 1.0.0\ncommand: python3 t.py --data $<<inputs.data>> "
                "--lr $<<parameters.lr>> --out $<<outputs.model>>\n"
                "inputs:\n  data: {type: folder}\noutputs:\n  model: {type: folder}\n"
                "parameters:\n  lr: {type: float, default: 0.01, min: 0, max: 1}\n"
                "  mode: {type: string, default: fast, enum: [fast, slow]}\n")
    out = ["type: pipeline", "name: big", "inputs:", "  raw: {type: uri_folder, path: ./data}",
           "  rate: 0.5", "outputs:", "  final:", "jobs:"]
    for j in range(jobs):
        src = "${{parent.inputs.raw}}" if j == 0 else "${{parent.jobs.j%d.outputs.model}}" % (j - 1)
        out += [f"  j{j}:", "    component: ./train.yaml", "    inputs:",
                f"      data: {src}", "      lr: ${{parent.inputs.rate}}", "      mode: fast"]
    out += ["    outputs:", "      model: ${{parent.outputs.final}}"]
    with open(os.path.join(folder, name), "w") as f:
        f.write("\n".join(out) + "\n")


class Client:
    def __init__(self, cmd, config=None):
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL)
        self.buf = b""
        self.id = 0
        self.config = config

    def send(self, msg):
        body = json.dumps(msg).encode()
        self.p.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.p.stdin.flush()

    def read(self, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                n = 0
                for h in self.buf[:end].split(b"\r\n"):
                    k, _, v = h.partition(b":")
                    if k.strip().lower() == b"content-length":
                        n = int(v)
                if len(self.buf) >= end + 4 + n:
                    msg = json.loads(self.buf[end + 4:end + 4 + n])
                    self.buf = self.buf[end + 4 + n:]
                    # Answer what servers ask of a client.
                    if "method" in msg and "id" in msg:
                        result = None
                        if msg["method"] == "workspace/configuration":
                            result = [self.config for _ in msg["params"]["items"]]
                        self.send({"jsonrpc": "2.0", "id": msg["id"], "result": result})
                    return msg
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.p.stdout], [], [], left)[0]:
                raise TimeoutError("no message")
            chunk = os.read(self.p.stdout.fileno(), 1 << 20)
            if not chunk:
                raise EOFError("server ended")
            self.buf += chunk

    def request(self, method, params):
        self.id += 1
        rid = self.id
        self.send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        while True:
            m = self.read()
            if m.get("id") == rid and "method" not in m:
                return m

    def notify(self, method, params):
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def diagnostics(self, uri, version=None):
        while True:
            m = self.read()
            if m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri:
                if version is None or m["params"].get("version") in (None, version):
                    return m["params"]["diagnostics"]

    def cpu_ms(self):
        """The server's user + system CPU time so far."""
        with open(f"/proc/{self.p.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")

    def rss_mb(self):
        with open(f"/proc/{self.p.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def close(self):
        try:
            self.request("shutdown", None)
            self.notify("exit", None)
            self.p.wait(timeout=10)
        except Exception:
            self.p.kill()


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def edit_latency(client, uri, text, line, col, rounds, versioned=True):
    """Times a one-character didChange to its publishDiagnostics."""
    lines = text.split("\n")
    original = lines[line][col]
    times = []
    cpu0 = client.cpu_ms()
    for i in range(rounds):
        ch = "7" if i % 2 == 0 else original
        version = i + 2
        t0 = time.perf_counter()
        client.notify("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"range": {"start": {"line": line, "character": col},
                                          "end": {"line": line, "character": col + 1}},
                                "text": ch}]})
        client.diagnostics(uri, version if versioned else None)
        times.append((time.perf_counter() - t0) * 1000)
    client.last_cpu_per_edit = (client.cpu_ms() - cpu0) / rounds
    return times


def request_latency(client, method, uri, line, col, rounds):
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        r = client.request(method, {"textDocument": {"uri": uri},
                                    "position": {"line": line, "character": col}})
        times.append((time.perf_counter() - t0) * 1000)
        assert "result" in r and r["result"], r
    return times


def find(text, needle):
    off = text.index(needle)
    return text.count("\n", 0, off), off - text.rfind("\n", 0, off) - 1


def main():
    args = sys.argv[1:]
    pipec = os.path.abspath(args[0])
    rounds = int(args[args.index("--rounds") + 1]) if "--rounds" in args else 60
    yaml_ls = args[args.index("--yaml-ls") + 1] if "--yaml-ls" in args else None
    d = tempfile.mkdtemp(prefix="lsp-bench-")
    os.makedirs(os.path.join(d, "data"))
    nlines = gen_pipe(os.path.join(d, "big.pipe"))
    gen_yaml(d)
    rows = []

    def report(what, xs, cpu=None):
        rows.append((what, statistics.median(xs), pct(xs, 99), cpu))

    c = Client([pipec, "lsp"])
    c.request("initialize", {"capabilities": {}})
    c.notify("initialized", {})
    for name, lang in (("big.pipe", "pipe"), ("pipeline.yaml", "yaml")):
        path = os.path.join(d, name)
        uri = "file://" + path
        text = open(path).read()
        c.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": lang, "version": 1, "text": text}})
        c.diagnostics(uri, 1)
        if name == "big.pipe":
            # A digit of a default value deep in the file; completion of a
            # step's outputs; hover on a call argument.
            line, col = find(text, "c150 {")
            line, col = find(text, "0.01 in 0..1\n  param mode: string = \"fast\" in { \"fast\", \"slow\" }\n}\n// Component 151")
            report(f"{name} ({nlines} lines): didChange -> diagnostics",
                   edit_latency(c, uri, text, line, col + 3, rounds), c.last_cpu_per_edit)
            cl, cc = find(text, "s700 = ")
            report(f"{name}: completion", request_latency(
                c, "textDocument/completion", uri, cl, len(f"  s700 = c{700 % 300}(data: s699."), rounds))
            report(f"{name}: hover", request_latency(
                c, "textDocument/hover", uri, cl, len(f"  s700 = c{700 % 300}(data: s699.model, l"), rounds))
        else:
            line, col = find(text, "  j100:\n    component: ./train.yaml\n    inputs:\n      data: ${{parent.jobs.j99.outputs.model}}\n      lr: ${{parent.inputs.rate}}\n      mode: fast")
            ln = line + 5
            yaml_edit = (ln, len("      mode: f"))
            report(f"{name} (200 jobs): didChange -> diagnostics",
                   edit_latency(c, uri, text, ln, len("      mode: f"), rounds),
                   c.last_cpu_per_edit)
            report(f"{name}: completion", request_latency(
                c, "textDocument/completion", uri, line + 3, len("      data: ${{parent.jobs."), rounds))
            report(f"{name}: hover", request_latency(
                c, "textDocument/hover", uri, line + 4, len("      l"), rounds))
            yaml_text = text
            yaml_uri = uri
    # 50 documents open: the two above and 48 more 200-job pipelines.
    for i in range(48):
        gen_yaml(d, f"p{i}.yaml")
        path = os.path.join(d, f"p{i}.yaml")
        uri = "file://" + path
        c.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "yaml", "version": 1, "text": open(path).read()}})
        c.diagnostics(uri, 1)
    rss = c.rss_mb()
    c.close()

    print(f"pipec lsp, {rounds} rounds (ms; client-side, default 2 ms debounce included)")
    for what, p50, p99, cpu in rows:
        extra = f"  (server CPU {cpu:.1f} per edit)" if cpu is not None else ""
        print(f"  {what:55s} p50 {p50:7.2f}  p99 {p99:7.2f}{extra}")
    print(f"  resident memory with 50 documents open: {rss:.0f} MB")

    if yaml_ls:
        y = Client(["node", yaml_ls, "--stdio"], config={"validate": True, "completion": True, "hover": True})
        y.request("initialize", {"capabilities": {"workspace": {"configuration": True}},
                                 "rootUri": "file://" + d, "processId": os.getpid()})
        y.notify("initialized", {})
        y.notify("workspace/didChangeConfiguration", {"settings": {"yaml": {"validate": True}}})
        y.notify("textDocument/didOpen", {"textDocument": {
            "uri": yaml_uri, "languageId": "yaml", "version": 1, "text": yaml_text}})
        y.diagnostics(yaml_uri)
        ys = edit_latency(y, yaml_uri, yaml_text, yaml_edit[0], yaml_edit[1], rounds, versioned=False)
        y.close()
        print(f"yaml-language-server, same edit of pipeline.yaml (200 jobs):")
        print(f"  {'didChange -> diagnostics':55s} p50 {statistics.median(ys):7.2f}  p99 {pct(ys, 99):7.2f}"
              f"  (server CPU {y.last_cpu_per_edit:.1f} per edit)")


if __name__ == "__main__":
    main()
