# iris_reference.py MODEL_DIR TABLE_DIR: scores the whole table in one process
# and prints the rows as append_row_to gathers a DataFrame's rows.
import os
import pickle
import sys

import pandas as pd

with open(os.path.join(sys.argv[1], "model.pkl"), "rb") as f:
    model = pickle.load(f)
table = pd.read_csv(os.path.join(sys.argv[2], "iris.csv"))
result = table.iloc[:, :4].copy()
result["variety"] = model.predict(table.iloc[:, :4])
sys.stdout.write(result.to_csv(sep=" ", header=False, index=False,
                               lineterminator="\n"))
