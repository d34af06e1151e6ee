"""Azure-style entry script: init() loads the model, run() predicts a mini-batch."""
import argparse
import json
import os

model = None


def init():
    global model
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    args, _ = parser.parse_known_args()
    with open(os.path.join(args.model, "model.json")) as f:
        model = json.load(f)


def run(mini_batch):
    # A pandas DataFrame when pandas is installed, else a list of dict rows.
    rows = mini_batch.to_dict("records") if hasattr(mini_batch, "to_dict") else mini_batch
    out = []
    for r in rows:
        x1, x2 = float(r["x1"]), float(r["x2"])
        y = model["w"][0] * x1 + model["w"][1] * x2 + model["b"]
        out.append(f"{x1},{x2},{y:.4f}")
    return out
