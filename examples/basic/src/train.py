"""Fit y = w.x + b by mini-batch gradient descent; hyperparameters from the environment."""
import argparse
import json
import os
import random

p = argparse.ArgumentParser()
p.add_argument("--epochs", type=int, required=True)
p.add_argument("--batch-size", type=int, required=True)
p.add_argument("--learning-rate", type=float, required=True)
a = p.parse_args()
# PAI_HPS carries the same values as typed JSON.
assert json.loads(os.environ["PAI_HPS"])["epochs"] == a.epochs

with open(os.path.join(os.environ["PAI_INPUT_TRAIN"], "data.csv")) as f:
    _, *lines = f.read().splitlines()
data = [[float(v) for v in line.split(",")] for line in lines]
w, b = [0.0, 0.0], 0.0
rng = random.Random(0)
for _ in range(a.epochs):
    rng.shuffle(data)
    for i in range(0, len(data), a.batch_size):
        batch = data[i:i + a.batch_size]
        gw, gb = [0.0, 0.0], 0.0
        for x1, x2, y in batch:
            err = w[0] * x1 + w[1] * x2 + b - y
            gw[0] += err * x1
            gw[1] += err * x2
            gb += err
        n = len(batch)
        w = [w[0] - a.learning_rate * gw[0] / n, w[1] - a.learning_rate * gw[1] / n]
        b -= a.learning_rate * gb / n
out = os.environ["PAI_OUTPUT_MODEL"]
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "model.json"), "w") as f:
    json.dump({"w": w, "b": b}, f)
print(f"train: w={w[0]:.3f},{w[1]:.3f} b={b:.3f}")
