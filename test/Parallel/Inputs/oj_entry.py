# The shape of Azure's 1a_oj_sales_prediction entry script: a DataFrame per
# partition, the keys in the context, one model file per partition under
# --model_folder, and an empty return.
import argparse
import os

import pandas as pd


def init():
    global model_folder
    parser = argparse.ArgumentParser()
    parser.add_argument("--model_folder", type=str)
    parser.add_argument("--returns", default="empty")
    args, _ = parser.parse_known_args()
    model_folder = args.model_folder
    global returns
    returns = args.returns


def run(input_data, mini_batch_context):
    if not isinstance(input_data, pd.DataFrame):
        raise Exception("Not a valid DataFrame input.")
    kv = mini_batch_context.partition_key_value
    path = os.path.join(model_folder, *[str(v) for v in kv.values()])
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "model.txt"), "w") as fh:
        fh.write("%d rows; columns %s; keys %s\n" % (
            len(input_data), ",".join(input_data.columns),
            ",".join("%s=%r(%s)" % (k, v, type(v).__name__)
                     for k, v in kv.items())))
    if returns == "one":
        return pd.DataFrame({"Store": [kv["Store"]], "MAPE": [1.5]})
    return []
