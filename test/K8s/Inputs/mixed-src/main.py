import os, sys
print("hello", sys.argv[1:])
