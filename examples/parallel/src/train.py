# Trains a classifier on the iris data that ships with scikit-learn and writes
# the table to score: an MLTable folder holding iris.csv (features only).
import argparse
import os
import pickle

from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

parser = argparse.ArgumentParser()
parser.add_argument("--model", required=True)
parser.add_argument("--table", required=True)
args = parser.parse_args()

iris = load_iris(as_frame=True)
features = iris.frame[iris.feature_names].rename(
    columns=lambda c: c.replace(" (cm)", "").replace(" ", "."))
model = LogisticRegression(max_iter=1000).fit(features,
                                              iris.target_names[iris.target])

os.makedirs(args.model, exist_ok=True)
with open(os.path.join(args.model, "model.pkl"), "wb") as f:
    pickle.dump(model, f)

os.makedirs(args.table, exist_ok=True)
features.to_csv(os.path.join(args.table, "iris.csv"), index=False)
with open(os.path.join(args.table, "MLTable"), "w") as f:
    f.write("paths:\n"
            "  - file: ./iris.csv\n"
            "transformations:\n"
            "  - read_delimited:\n"
            "      delimiter: ','\n"
            "      encoding: utf8\n"
            "      header: all_files_same_headers\n")
print("trained on %d rows; classes %s" % (len(features), list(model.classes_)))
