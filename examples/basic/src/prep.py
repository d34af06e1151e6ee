"""Split a CSV file into train.csv and test.csv (deterministic)."""
import argparse
import os
import random

p = argparse.ArgumentParser()
p.add_argument("--data", required=True)
p.add_argument("--ratio", type=float, required=True)
p.add_argument("--train", required=True)
p.add_argument("--test", required=True)
a = p.parse_args()

with open(a.data) as f:
    header, *rows = f.read().splitlines()
random.Random(0).shuffle(rows)
n_test = max(1, int(len(rows) * a.ratio))
for folder, part in ((a.test, rows[:n_test]), (a.train, rows[n_test:])):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "data.csv"), "w") as f:
        f.write("\n".join([header] + part) + "\n")
print(f"prep: {len(rows) - n_test} train rows, {n_test} test rows")
