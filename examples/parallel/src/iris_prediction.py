# An Azure ML style entry script: init() loads the model named by --model,
# run() scores a pandas DataFrame of rows and returns them with a prediction.
import argparse
import os
import pickle


def init():
    global iris_model
    parser = argparse.ArgumentParser(allow_abbrev=False,
                                     description="ParallelRunStep Agent")
    parser.add_argument("--model", type=str, default=0)
    args, _ = parser.parse_known_args()
    with open(os.path.join(args.model, "model.pkl"), "rb") as f:
        iris_model = pickle.load(f)


def run(input_data):
    result = input_data.iloc[:, :4].copy()
    result["variety"] = iris_model.predict(input_data.iloc[:, :4])
    return result
