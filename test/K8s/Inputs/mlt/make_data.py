# Writes the MLTable folders of pipeline.yaml under DIR (make_data.py DIR):
# partitions in {Store}/{Brand} folders and in {Store}_{Brand}.csv names,
# Hive-style folders, every transformation pipec run applies, a seeded
# sample, UTF-16 tables (CSV with CRLF, JSON Lines big-endian), JSON Lines
# partitioned by a field, and a list of files.
import os
import sys

out = sys.argv[1]


def write(rel, data):
    path = os.path.join(out, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(data if isinstance(data, bytes) else data.encode())


# {Store}/{Brand}/data.csv, partition_keys Store, Brand; Path dropped.
for s in (1000, 1001, 1002):
    for b in ("dominicks", "minute.maid", "tropicana"):
        write("parts/%d/%s/data.csv" % (s, b), "Week,Quantity,Price\n" + "".join(
            "1990-06-%02d,%d,%d.5\n" % (14 + w * 7, 100 + w + s % 7, w)
            for w in range(3)))
write("parts/MLTable", """type: mltable
paths:
  - pattern: ./*/*/*.csv
transformations:
  - read_delimited:
      delimiter: ','
      header: all_files_same_headers
      include_path_column: true
  - extract_columns_from_partition_format:
      partition_format: '{Store}/{Brand}/{file_name}.csv'
  - drop_columns: Path
""")

# {Store}_{Brand}.csv names; quoted fields with commas and line breaks.
for s in (1, 2):
    for b in ("a", "b"):
        write("under/data/%d_%s.csv" % (s, b), 'id,qty,note\n%d1,5,"x, y"\n'
              '%d2,6,"two\nlines"\n\n%d3,7,plain\n' % (s, s, s))
write("under/MLTable", "paths:\n  - pattern: ./data/*.csv\n"
      "transformations:\n  - read_delimited:\n"
      "      header: all_files_same_headers\n"
      "  - extract_columns_from_partition_format: '{Store}_{Brand}.csv'\n")

# Hive-style folders, without partition_keys: slices by size, each row
# with its file's path columns (one of them a datetime).
for s in (1, 2):
    for d in ("2024/01/05", "2024/02/07"):
        write("hive/Store=%d/%s/part.csv" % (s, d),
              "id,qty\n" + "".join("%d%d,%d\n" % (s, i, i) for i in range(5)))
write("hive/MLTable", """paths:
  - folder: .
transformations:
  - read_delimited: {}
  - extract_columns_from_partition_format:
      partition_format: Store={Store}/{Day:yyyy/MM/dd}/{name}.csv
  - drop_columns: [name]
""")

# skip, take, convert_column_types, keep_columns across two files.
rows_a = "".join("%d,%s,2024-01-%02d,n%d\n" % (i, "yes" if i % 2 else "no",
                                               i + 1, i) for i in range(20))
rows_b = "".join("%d,no,2024-02-01,m\n" % i for i in range(20, 30))
for name in ("trans", "sample"):
    write(name + "/d/a.csv", "id,flag,when,note\n" + rows_a)
    write(name + "/d/b.csv", "id,flag,when,note\n" + rows_b)
write("trans/MLTable", """paths:
  - pattern: ./d/*.csv
transformations:
  - read_delimited: {}
  - skip: 3
  - take: 20
  - convert_column_types:
      - columns: [flag]
        column_type:
          boolean:
            true_values: ['yes']
            false_values: ['no']
      - columns: when
        column_type:
          datetime:
            formats: ["%Y-%m-%d"]
      - columns: [id]
        column_type: float
  - keep_columns: [id, flag, when]
""")
write("sample/MLTable", """paths:
  - pattern: ./d/*.csv
transformations:
  - read_delimited:
      include_path_column: true
  - take_random_sample:
      probability: 0.3
      seed: 42
  - drop_columns: [note]
""")

# UTF-16: CSV little-endian with CRLF (the byte order mark picks the
# encoding), partitioned and sliced; JSON Lines big-endian.
text = "city,n,word\r\n" + "".join(
    "%s,%d,\u00e9t\u00e9 \u2603 %d\r\n" % (("Z\u00fcrich", "K\u00f8ge")[i % 2],
                                           i, i) for i in range(12))
write("utf16/t.csv", b"\xff\xfe" + text.encode("utf-16-le"))
write("utf16/MLTable", "paths:\n  - file: ./t.csv\ntransformations:\n"
      "  - read_delimited:\n      encoding: utf16\n")
jl = "".join('{"k": "%s", "v": %d}\n' % ("\u00e4\u00f6"[i % 2], i)
             for i in range(9))
write("utf16jl/rows.jsonl", b"\xfe\xff" + jl.encode("utf-16-be"))
write("utf16jl/MLTable", "paths:\n  - file: ./rows.jsonl\n"
      "transformations:\n  - read_json_lines:\n      encoding: utf16\n"
      "      include_path_column: true\n")

# A list of files: skip, the sample and take apply to files.
for i in range(14):
    write("files/f/%02d.bin" % i, b"\x00\xff\r\n" * (i + 1))
write("files/MLTable", """paths:
  - folder: ./f
transformations:
  - skip: 1
  - take_random_sample: {probability: 0.7, seed: 3}
  - take: 8
""")

# A folder of Hive-style `Key=value` folders, for a folder input with
# partition_keys: one mini-batch per run of files with equal keys.
for s in (1, 2):
    for b in ("a", "b"):
        for k in range(1 + s):
            write("keyed/Store=%d/Brand=%s/part-%d.txt" % (s, b, k),
                  "%d%s%d\n" % (s, b, k))
