# make_table.py DIR ROWS: DIR/data.csv (id, store, brand, note; notes hold
# commas, quotes and newlines) and DIR/MLTable, and DIR/../rows.jsonl.
import json
import os
import sys

d, n = sys.argv[1], int(sys.argv[2])
os.makedirs(d, exist_ok=True)
with open(os.path.join(d, "data.csv"), "w", newline="") as f:
    f.write("id,store,brand,note\n")
    for i in range(n):
        f.write('%d,%d,%s,"a ""note"", with\nnewline %d"\n'
                % (i, i % 3, "xy"[i % 2], i))
with open(os.path.join(d, "MLTable"), "w") as f:
    f.write("paths:\n  - file: ./data.csv\ntransformations:\n"
            "  - read_delimited:\n      delimiter: ','\n"
            "      header: all_files_same_headers\n      encoding: utf8\n")
with open(os.path.join(os.path.dirname(d), "rows.jsonl"), "w") as f:
    for i in range(n):
        f.write(json.dumps({"id": i, "store": i % 3, "brand": "xy"[i % 2]}) + "\n")
