"""Prints the environment it runs in and that numpy imports there."""
import os
import sys

import numpy

print("prefix", sys.prefix)
print("venv", os.environ.get("VIRTUAL_ENV"))
print("numpy", numpy.__name__)
