# The shape of Azure's parallel_train.py: a DataFrame per partition, the
# keys in mini_batch_context.partition_key_value, a file per partition under
# --model_folder, and an empty return (no scikit-learn here: the "model" is
# the mean quantity).
import argparse
import os

import pandas as pd


def init():
    global drop_cols, model_folder
    parser = argparse.ArgumentParser()
    parser.add_argument("--drop_cols", type=str)
    parser.add_argument("--model_folder", type=str)
    args, _ = parser.parse_known_args()
    drop_cols = args.drop_cols.split(",")
    model_folder = args.model_folder


def run(input_data, mini_batch_context):
    if not isinstance(input_data, pd.DataFrame):
        raise Exception("Not a valid DataFrame input.")
    kv = mini_batch_context.partition_key_value
    data = input_data.drop(columns=drop_cols, errors="ignore")
    path = os.path.join(model_folder, *[str(v) for v in kv.values()])
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "model.txt"), "w") as fh:
        fh.write("%s rows=%d mean=%.2f columns=%s\n" % (
            kv, len(data), data["Quantity"].mean(), ",".join(data.columns)))
    return []
