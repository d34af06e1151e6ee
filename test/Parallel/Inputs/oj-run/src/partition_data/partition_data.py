# What Azure's partition_data.py does, with the standard library: one
# <key>/<key>/partitioned_data.csv per key tuple (without the key columns)
# and the MLTable it writes, as yaml.dump writes it.
import argparse
import csv
import os
import re

parser = argparse.ArgumentParser()
parser.add_argument("--data_source")
parser.add_argument("--partition_keys")
parser.add_argument("--tabular_output_data")
args, _ = parser.parse_known_args()
keys = args.partition_keys.split(",")
src = args.data_source
if os.path.isdir(src):
    src = os.path.join(src, os.listdir(src)[0])
with open(src, newline="") as fh:
    rows = list(csv.DictReader(fh))
groups = {}
for r in rows:
    groups.setdefault(tuple(r[k] for k in keys), []).append(r)
for values, group in groups.items():
    folder = os.path.join(args.tabular_output_data,
                          *[re.sub(r'[.\s\\|*/<>?:"]', "_", v) for v in values])
    os.makedirs(folder, exist_ok=True)
    cols = [c for c in group[0] if c not in keys]
    with open(os.path.join(folder, "partitioned_data.csv"), "w",
              newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(cols)
        for r in group:
            w.writerow([r[c] for c in cols])
fmt = "".join("{%s}/" % k for k in keys) + "{file_name}.{extension}"
with open(os.path.join(args.tabular_output_data, "MLTable"), "w") as fh:
    fh.write("""paths:
- pattern: ./**/*.csv
transformations:
- read_delimited:
    delimiter: ','
    empty_as_string: false
    encoding: ascii
    header: all_files_same_headers
    include_path_column: true
- extract_columns_from_partition_format:
    partition_format: '%s'
- drop_columns:
  - Path
  - file_name
  - extension
type: mltable
""" % fmt)
