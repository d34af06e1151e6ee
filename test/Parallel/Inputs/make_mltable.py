# Writes MLTable folders for the MLTable tests:
#   make_mltable.py pngs DIR N      N binary PNG files in DIR/images, and an
#                                    MLTable that only lists the folder
#   make_mltable.py oj DIR          Azure's partition example: DIR/<Store>/
#                                    <Brand>/partitioned_data.csv and the
#                                    MLTable its partition_data.py writes
#                                    (by Inputs/oj-run's partition_data.py)
#   make_mltable.py underscore DIR  DIR/data/<Store>_<Brand>.csv, format
#                                    {Store}_{Brand}.csv
#   make_mltable.py hive DIR        DIR/Store=<s>/Brand=<b>/part.csv, format
#                                    Store={Store}/Brand={Brand}/{name}.csv
import os
import sys

kind, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(data if isinstance(data, bytes) else data.encode())


if kind == "pngs":
    for i in range(int(sys.argv[3])):
        # The PNG signature, then bytes a text reader would trip on: line
        # breaks, quotes, commas, NUL, invalid UTF-8.
        body = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * (i + 1) + \
            b'"\n,\r\x00\xff' * 7
        write(os.path.join(out, "images", "img_%03d.png" % i), body)
    write(os.path.join(out, "MLTable"),
          "type: mltable\npaths:\n  - folder: ./images\n")
elif kind == "oj":
    # The sales table, partitioned by the script of Inputs/oj-run, which
    # writes what Azure's partition_data.py writes.
    import subprocess

    rows = ["WeekStarting,Store,Brand,Quantity,Advert,Price,Revenue"]
    for s in (1000, 1001, 1002):
        for b in ("dominicks", "minute.maid", "tropicana"):
            for w in range(4):
                rows.append("1990-06-%02d,%d,%s,%d,1,2.5,%d.5"
                            % (14 + w * 7, s, b, 100 + w, 250 + w))
    source = out.rstrip("/") + ".csv"
    write(source, "\n".join(rows) + "\n")
    here = os.path.dirname(os.path.abspath(__file__))
    subprocess.run([sys.executable, os.path.join(
        here, "oj-run", "src", "partition_data", "partition_data.py"),
        "--data_source", source, "--partition_keys", "Store,Brand",
        "--tabular_output_data", out], check=True)
elif kind == "underscore":
    for s in (1, 2):
        for b in ("a", "b"):
            write(os.path.join(out, "data", "%d_%s.csv" % (s, b)),
                  "id,qty\n%d1,5\n%d2,6\n" % (s, s))
    write(os.path.join(out, "MLTable"), """paths:
  - pattern: ./data/*.csv
transformations:
  - read_delimited:
      header: all_files_same_headers
  - extract_columns_from_partition_format: '{Store}_{Brand}.csv'
""")
elif kind == "hive":
    for s in (1, 2):
        for b in ("a", "b"):
            write(os.path.join(out, "Store=%d" % s, "Brand=%s" % b,
                               "part.csv"),
                  "id,qty\n%d%s1,5\n" % (s, b))
    write(os.path.join(out, "MLTable"), """paths:
  - folder: .
transformations:
  - read_delimited: {}
  - extract_columns_from_partition_format:
      partition_format: Store={Store}/Brand={Brand}/{name}.csv
  - drop_columns: name
""")
else:
    sys.exit("unknown kind " + kind)
