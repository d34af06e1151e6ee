import sys
print("prefix", sys.prefix)
print("venv", sys.prefix != sys.base_prefix)
