"""Writes a chain of pipeline files: DIR/ROOT.yaml has one job named by the
first spec whose component is DIR/ROOT-1.yaml, and so on; the last file is a
command component. A spec is a name, or LETTER*COUNT for a long one.

usage: chain.py DIR ROOT SPEC...
"""
import os
import sys


def name(spec):
    if "*" in spec:
        letter, count = spec.split("*")
        return letter * int(count)
    return spec


d, root, specs = sys.argv[1], sys.argv[2], sys.argv[3:]
files = [root] + ["%s-%d" % (root, i) for i in range(1, len(specs) + 1)]
for i, spec in enumerate(specs):
    with open(os.path.join(d, files[i] + ".yaml"), "w") as f:
        f.write("type: pipeline\njobs:\n  %s:\n    component: ./%s.yaml\n"
                % (name(spec), files[i + 1]))
with open(os.path.join(d, files[-1] + ".yaml"), "w") as f:
    f.write("name: leaf\ncommand: echo hi\n")
