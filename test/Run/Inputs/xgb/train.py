"""Trains a small XGBoost classifier per process and writes the model to
PAI_OUTPUT_MODEL; checks the xgboost job environment first."""
import os
import socket

import numpy as np
import xgboost as xgb

rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
workers = os.environ.get("WORKER_ADDRS", "").split(",") if world > 1 else []
assert len(workers) == world - 1, workers
assert len(set(workers)) == len(workers), workers
if rank > 0:
    # Each worker can listen on its own address at WORKER_PORT.
    socket.create_server((workers[rank - 1], int(os.environ["WORKER_PORT"]))).close()

rng = np.random.default_rng(rank)
x = rng.normal(size=(400, 4))
y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(int)
params = {"objective": "binary:logistic", "max_depth": 3, "eta": 0.3, "nthread": 1}
booster = xgb.train(params, xgb.DMatrix(x[:300], label=y[:300]), num_boost_round=20)
acc = ((booster.predict(xgb.DMatrix(x[300:])) > 0.5) == y[300:]).mean()
assert acc > 0.85, acc
booster.save_model(os.path.join(os.environ["PAI_OUTPUT_MODEL"], f"model-{rank}.json"))
print(f"rank {rank} of {world}: accuracy {acc:.2f}, workers {','.join(workers) or '-'}")
