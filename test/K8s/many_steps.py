#!/usr/bin/env python3
"""Pipelines of N steps of one component, and what their Workflows cost.

    many_steps.py DIR N
        writes DIR/mpi.yaml (N steps of a command component of 2 instances x
        2 processes, each with its own value) and DIR/one.yaml (the same
        with one process).
    many_steps.py --compare MPI_MANIFESTS ONE_MANIFESTS
        prints the templates and tasks of the first Workflow, whether it is
        under etcd's 1.5 MiB, and whether it is larger than the second by
        less than 8 bytes a step.
"""
import os
import sys

import yaml

COMPONENT = """name: mpi
version: 1.0.0
command: echo $RANK ${{inputs.x}}
inputs:
  x: {type: integer}
"""
RANKS = """distribution: {type: mpi, process_count_per_instance: 2}
resources: {instance_count: 2}
"""


def write(out, n):
    os.makedirs(out, exist_ok=True)
    for name, component in (("mpi", COMPONENT + RANKS), ("one", COMPONENT)):
        with open(os.path.join(out, name + "-component.yaml"), "w") as fh:
            fh.write(component)
        steps = "".join(
            "  s%d:\n    type: command\n    component: ./%s-component.yaml\n"
            "    inputs: {x: %d}\n" % (i, name, i) for i in range(n))
        with open(os.path.join(out, name + ".yaml"), "w") as fh:
            fh.write("type: pipeline\nname: many\njobs:\n" + steps)


def workflow(path):
    with open(path) as fh:
        text = fh.read()
    at = text.index('kind: "Workflow"')
    doc = [d for d in yaml.safe_load_all(text) if d and d["kind"] == "Workflow"]
    return len(text) - at, doc[0]


def compare(mpi, one):
    size, wf = workflow(mpi)
    one_size, _ = workflow(one)
    templates = wf["spec"]["templates"]
    # The steps' tasks: those of `main`, or of its parts when the steps are
    # more than one DAG holds (main-part-N, backends/k8s/README.md).
    parts = {t["template"] for t in templates[0]["dag"]["tasks"]
             if t["template"].startswith("main-part-")}
    tasks = [task for t in templates
             if (t["name"] in parts if parts else t["name"] == "main")
             for task in t["dag"]["tasks"]]
    print("templates:", " ".join(t["name"] for t in templates
                                 if t["name"] not in parts))
    print("parts:", len(parts))
    print("tasks:", len(tasks))
    print("under 1.5 MiB:", size < 1536 * 1024)
    print("more than the one-process Workflow, per step, under 8 bytes:",
          (size - one_size) / len(tasks) < 8)


if __name__ == "__main__":
    if sys.argv[1] == "--compare":
        compare(sys.argv[2], sys.argv[3])
    else:
        write(sys.argv[1], int(sys.argv[2]))
