"""Random table inputs split by the engine (`pipec internal-parallel-step`)
and by stdlib/harness/pipec_split.py (through the sh target's driver,
pipec_sh_parallel.py, which runs the same harness): the rows every
mini-batch gave run() (test/K8s/Inputs/mlt/src/echo.py: index, partition
keys, columns, each item) and the job results must be equal byte for
byte.

Each case draws: CSV, TSV or JSON Lines; an encoding (UTF-8 with or without
a byte order mark, UTF-16/32 of either byte order, latin-1, windows-1252,
ASCII); LF, CRLF or lone CR line ends, blank lines, quoted fields with
line breaks, a last row without an end; the header mode; one to three
files under `{A}/{B}` folders; include_path_column, the partition format's
columns, skip, take, a seeded sample, keep_columns; partition keys (a
column, or a path column) or a size in bytes.

usage: split_differential.py PIPEC WORKDIR SEED CASES
Prints one line per case and a summary; exits 1 on a difference."""
import json
import os
import random
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
HARNESS = os.path.join(HERE, "..", "..", "..", "stdlib", "harness")
ENTRY = os.path.join(HERE, "..", "..", "K8s", "Inputs", "mlt", "src")
ENCODINGS = [("utf8", "utf-8", b""), ("utf8", "utf-8", b"\xef\xbb\xbf"),
             ("utf16", "utf-16-le", b"\xff\xfe"),
             ("utf16", "utf-16-be", b"\xfe\xff"),
             ("utf32", "utf-32-le", b"\xff\xfe\x00\x00"),
             ("latin1", "latin-1", b""), ("windows1252", "cp1252", b""),
             ("ascii", "ascii", b"")]
WORDS = {"ascii": ["a", "bb", "c c", "d,e", 'q"x', "z"],
         "latin1": ["\u00e9t\u00e9", "K\u00f8ge", "a", "b,c"],
         "windows1252": ["\u20ac5", "\u2019s", "x", "y;z"],
         "any": ["\u00e9t\u00e9", "\u2603", "Z\u00fcrich", "x,y", "plain"]}


def words(enc):
    return WORDS.get(enc, WORDS["any"])


def make_case(rng, root):
    fmt = rng.choice(["csv", "csv", "tsv", "jsonl"])
    enc, codec, bom = rng.choice(ENCODINGS)
    if fmt == "jsonl" and enc in ("latin1", "windows1252"):
        enc, codec, bom = "utf8", "utf-8", b""
    sep = "\t" if fmt == "tsv" else ","
    ends = rng.choice(["\n", "\r\n", "\r", "mixed"])
    header = "each" if fmt == "jsonl" else rng.choice(
        ["each", "each", "first", "none"])
    nfiles = rng.randint(1, 3)
    cols = ["id", "g", "w"]
    mltable = rng.random() < 0.85 or header != "each"
    files = []
    row_id = 0
    for f in range(nfiles):
        a, b = rng.choice(["s1", "s2"]), rng.choice(["x", "y", "z"])
        rel = "%s/%s_%d.%s" % (a, b, f, "jsonl" if fmt == "jsonl" else
                               "tsv" if fmt == "tsv" else "csv")
        lines = []
        if fmt != "jsonl" and (header == "each" or (header == "first"
                                                    and f == 0)):
            lines.append(sep.join(cols))
        for _ in range(rng.randint(0, 9)):
            row_id += 1
            g = rng.choice(["k1", "k2", "k3"])
            w = rng.choice(words(enc))
            if rng.random() < 0.1:
                lines.append(rng.choice(["", "  ", "\t "]))
            if fmt == "jsonl":
                lines.append(json.dumps({"id": row_id, "g": g, "w": w},
                                        ensure_ascii=rng.random() < 0.5))
            else:
                if sep in w or '"' in w or rng.random() < 0.15:
                    w = '"%s"' % w.replace('"', '""')
                    if rng.random() < 0.3 and enc not in ("ascii",):
                        w = w[:-1] + "\nnext" + '"'
                lines.append(sep.join([str(row_id), g, w]))
        text = ""
        for i, line in enumerate(lines):
            end = rng.choice(["\n", "\r\n", "\r"]) if ends == "mixed" \
                else ends
            if fmt == "csv" and '"' in line and "\nnext" in line and \
                    end == "\r":
                end = "\n"
            last = i == len(lines) - 1
            text += line + ("" if last and rng.random() < 0.3 else end)
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(bom + text.encode(codec))
        files.append(rel)
    spec = {"keys": [], "size": rng.choice([1, 7, 40, 90, 200, 100000])}
    if not mltable:
        return spec
    t = ["paths:", "  - pattern: ./*/*.%s" % ("jsonl" if fmt == "jsonl"
                                               else fmt)]
    t.append("transformations:")
    if fmt == "jsonl":
        t.append("  - read_json_lines:")
    else:
        t.append("  - read_delimited:")
        t.append("      delimiter: %s" % ("'\\t'" if sep == "\t" else "','"))
        t.append("      header: %s" % {
            "each": "all_files_same_headers", "first": "from_first_file",
            "none": "no_header"}[header])
    if enc != "utf8" or rng.random() < 0.5:
        t.append("      encoding: %s" % enc)
    path_col = rng.random() < 0.3
    if path_col:
        t.append("      include_path_column: true")
    partition = rng.random() < 0.5
    if partition:
        t.append("  - extract_columns_from_partition_format: "
                 "'{A}/{B}_{n}.%s'" % ("jsonl" if fmt == "jsonl" else fmt))
    if rng.random() < 0.3:
        t.append("  - skip: %d" % rng.randint(0, 4))
    if rng.random() < 0.3:
        t.append("  - take: %d" % rng.randint(1, 12))
    if rng.random() < 0.3:
        t.append("  - take_random_sample:")
        t.append("      probability: %s" % rng.choice(["0.2", "0.5", "0.9"]))
        t.append("      seed: %d" % rng.randint(0, 99))
    data_cols = cols if header != "none" else ["Column1", "Column2",
                                                "Column3"]
    if fmt != "jsonl" and rng.random() < 0.2:
        t.append("  - keep_columns: [%s, %s]" % (data_cols[0], data_cols[2]))
    with open(os.path.join(root, "MLTable"), "w") as fh:
        fh.write("\n".join(t) + "\n")
    if rng.random() < 0.4:
        choices = ["A"] if partition else []
        if fmt == "jsonl" or header != "none":
            choices.append("g")
        else:
            choices.append("Column2")
        spec["keys"] = sorted(set(rng.sample(choices, rng.randint(
            1, len(choices)))))
    return spec


def write_spec(work, name, data, case, python):
    size = case["size"]
    spec = {
        "step_name": "score", "location": "pipeline.yaml:7:5",
        "python": python, "code_dir": ENTRY, "entry_script": "echo.py",
        "program_arguments": [], "input_path": data, "input_type": "table",
        "settings": {
            "input_data": "data",
            "batch_by": "partition_keys" if case["keys"] else "size",
            "mini_batch_size": size, "mini_batch_files": 0,
            "partition_keys": case["keys"],
            "max_concurrency_per_instance": 2,
            "mini_batch_error_threshold": -1, "error_threshold": -1,
            "allowed_failed_percent": 100, "max_retries": 0,
            "timeout_ms": 60000, "logging_level": "INFO",
            "entry_script": "echo.py", "append_row_to": "rows",
            "task_overhead_timeout_ms": 30000,
            "progress_update_timeout_ms": 0,
            "first_task_creation_timeout_ms": 600000,
            "resource_monitor_interval_ms": 0,
            "copy_logs_to_parent": False},
        "instance_count": 1,
        "append_row_to": os.path.join(work, name, "out", "rows.txt"),
        "env": {}, "logs_dir": os.path.join(work, name, "logs"),
        "state_dir": os.path.join(work, name, "state"), "resume": False}
    os.makedirs(os.path.join(work, name, "out"), exist_ok=True)
    path = os.path.join(work, name, "spec.json")
    with open(path, "w") as fh:
        json.dump(spec, fh)
    return spec, path


def read(path):
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError:
        return None


def main():
    pipec, work, seed, cases = sys.argv[1], sys.argv[2], int(
        sys.argv[3]), int(sys.argv[4])
    python = sys.executable
    shutil.rmtree(work, ignore_errors=True)
    differences = 0
    kinds = {"rows": 0, "failed": 0}
    for c in range(cases):
        rng = random.Random(seed * 1000 + c)
        base = os.path.join(work, "case%02d" % c)
        data = os.path.join(base, "data")
        os.makedirs(data)
        case = make_case(rng, data)
        _, engine_spec = write_spec(base, "engine", data, case, python)
        subprocess.run([pipec, "internal-parallel-step", engine_spec],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        spec, sh_spec = write_spec(base, "sh", data, case, python)
        harness = os.path.join(spec["state_dir"], "harness")
        os.makedirs(harness)
        for name in ("pipec_harness.py", "pipec_tables.py"):
            shutil.copy(os.path.join(HARNESS, name), harness)
        subprocess.run([python, os.path.join(HARNESS, "pipec_sh_parallel.py"),
                        sh_spec, base], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, cwd=base)
        same = True
        for rel in ("out/rows.txt", "logs/job_result.txt"):
            a = read(os.path.join(base, "engine", rel))
            b = read(os.path.join(base, "sh", rel))
            if a != b:
                same = False
                print("case %d: %s differs:\n  engine: %r\n  python: %r"
                      % (c, rel, (a or b"")[:600], (b or b"")[:600]))
        result = read(os.path.join(base, "engine", "logs",
                                   "job_result.txt")) or b""
        kinds["failed" if b"failed" in result else "rows"] += 1
        if not same:
            differences += 1
        print("case %d: %s, %d keys, size %d: %s" % (
            c, "equal" if same else "DIFFERENT", len(case["keys"]),
            case["size"], result.decode("utf-8", "replace").splitlines()[0]
            if result else "no result"))
    print("%d cases (%d with rows, %d failed steps), %d differences"
          % (cases, kinds["rows"], kinds["failed"], differences))
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
