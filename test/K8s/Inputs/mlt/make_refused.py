# Writes MLTable folders that pipec run refuses, under DIR/data, and
# DIR/refused.yaml, a pipeline of one parallel step per folder (each step's
# name is its folder's): make_refused.py DIR. `anchor` is refused only by
# the splitter of the sh and Kubernetes targets (pipec_split.py reads no
# YAML anchors); it is not in the pipeline.
import os
import sys

out = sys.argv[1]
KEYS = {"fileskeys": ["Store"]}


def write(rel, data):
    path = os.path.join(out, "data", rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(data if isinstance(data, bytes) else data.encode())


csv = "id,qty\n1,5\n2,6\n"
cases = {
    # E1830: a transformation pipec run does not apply.
    "unsupported": "paths:\n  - file: ./a.csv\ntransformations:\n"
                   "  - read_delimited: {}\n  - filter: 'qty > 5'\n",
    # E1831: an option it does not apply.
    "dropinvalid": "paths:\n  - file: ./a.jsonl\ntransformations:\n"
                   "  - read_json_lines:\n      invalid_lines: drop\n",
    # E1836: a file whose path does not match the partition format.
    "mismatch": "paths:\n  - pattern: ./d/*.csv\ntransformations:\n"
                "  - read_delimited: {}\n"
                "  - extract_columns_from_partition_format: "
                "'{Store}_{Brand}.csv'\n",
    # E1837: a column the table does not have.
    "column": "paths:\n  - file: ./a.csv\ntransformations:\n"
              "  - read_delimited: {}\n  - drop_columns: [price]\n",
    # E1838: a path that is not local.
    "url": "paths:\n  - file: azureml://datastores/x/paths/a.csv\n"
           "transformations:\n  - read_delimited: {}\n",
    # E1204: a UTF-16 byte order mark where the MLTable says UTF-8.
    "bom": "paths:\n  - file: ./a.csv\ntransformations:\n"
           "  - read_delimited:\n      encoding: utf8\n",
    # E1205: partition_keys over a list of files.
    "fileskeys": "paths:\n  - folder: ./d\n",
    # E1203: UTF-16 text cut inside a character.
    "cutchar": "paths:\n  - file: ./a.csv\ntransformations:\n"
               "  - read_delimited: {}\n",
    # An anchor and an alias: pipec run reads them, the splitter does not.
    "anchor": "paths:\n  - file: &f ./a.csv\n  - file: *f\n"
              "transformations:\n  - read_delimited: {}\n",
}
for name, mltable in cases.items():
    write(name + "/MLTable", mltable)
    write(name + "/a.csv", csv)
write("dropinvalid/a.jsonl", '{"id": 1}\n')
write("mismatch/d/1_a.csv", csv)
write("mismatch/d/odd.csv", csv)
write("bom/a.csv", b"\xff\xfe" + csv.encode("utf-16-le"))
write("fileskeys/d/x.bin", b"\x00")
write("cutchar/a.csv", b"\xff\xfe" + csv.encode("utf-16-le") + b"\x00")

steps = [n for n in cases if n != "anchor"]
# Each MLTable is written by a step before the parallel one (copied from
# data/), as in Azure's partition example: pipec check and pipec compile
# check only the MLTable files that exist before the run.
lines = ["# MLTable inputs pipec run refuses when they are written at run time",
         "# (make_refused.py): each parallel step fails, in the same words on",
         "# every target.", "type: pipeline", "name: refused", "inputs:"]
lines += ["  %s: {type: uri_folder, path: ./data/%s}" % (n, n) for n in steps]
lines.append("jobs:")
for n in steps:
    keys = KEYS.get(n)
    lines += ["  write_%s:" % n, "    type: command",
              "    inputs: {src: \"${{parent.inputs.%s}}\"}" % n,
              "    outputs: {table: {type: mltable}}",
              "    command: cp -R ${{inputs.src}}/. ${{outputs.table}}",
              "  %s:" % n, "    type: parallel",
              "    inputs: {data: \"${{parent.jobs.write_%s.outputs.table}}\"}"
              % n,
              "    input_data: ${{inputs.data}}",
              "    mini_batch_size: 1kb" if not keys else
              "    partition_keys: [%s]" % ", ".join(keys),
              "    task:", "      code: ./src", "      entry_script: echo.py"]
with open(os.path.join(out, "refused.yaml"), "w") as fh:
    fh.write("\n".join(lines) + "\n")
