# Prints its arguments as JSON, one run per line, into the file named by
# SHOW_ARGS_OUT.
import json
import os
import sys

with open(os.environ["SHOW_ARGS_OUT"], "a") as f:
    f.write(json.dumps(sys.argv[1:]) + "\n")
