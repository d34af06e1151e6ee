"""Mean squared error of the model on the test set."""
import argparse
import json
import os

p = argparse.ArgumentParser()
p.add_argument("--model", required=True)
p.add_argument("--test", required=True)
p.add_argument("--report", required=True)
a = p.parse_args()
with open(os.path.join(a.model, "model.json")) as f:
    m = json.load(f)
with open(os.path.join(a.test, "data.csv")) as f:
    _, *lines = f.read().splitlines()
rows = [[float(v) for v in line.split(",")] for line in lines]
mse = sum((m["w"][0] * x1 + m["w"][1] * x2 + m["b"] - y) ** 2 for x1, x2, y in rows) / len(rows)
os.makedirs(a.report, exist_ok=True)
with open(os.path.join(a.report, "report.txt"), "w") as f:
    f.write(f"mse {mse:.4f} on {len(rows)} rows\n")
print(f"evaluate: mse {mse:.4f}")
