#!/usr/bin/env python3
"""Writes a pipeline of N steps and the one component every step uses.

The component has 3 inputs, 2 outputs and 5 hyperparameters. Step i binds
in_a to out_a of step i-1, in_b to out_b of step i/2 and in_c to out_a of
step i-3 (the pipeline input for the first steps), and sets two of the five
hyperparameters; the others keep their defaults.

Usage: generate.py N DIR  ->  DIR/pipeline.yaml, DIR/component.yaml
"""
import os
import sys

COMPONENT = """\
$schema: https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json
name: bench_step
version: 1.0.0
type: command
command: >-
  python step.py --a ${{inputs.in_a}} --b ${{inputs.in_b}} --c ${{inputs.in_c}}
  --lr ${{inputs.lr}} --epochs ${{inputs.epochs}} --batch ${{inputs.batch}}
  --dropout ${{inputs.dropout}} --tag ${{inputs.tag}}
  --out-a ${{outputs.out_a}} --out-b ${{outputs.out_b}}
inputs:
  in_a: {type: uri_folder}
  in_b: {type: uri_folder}
  in_c: {type: uri_folder}
  lr: {type: number, default: 0.01, min: 0, max: 1}
  epochs: {type: integer, default: 10, min: 1, max: 1000}
  batch: {type: integer, default: 32, enum: [16, 32, 64, 128]}
  dropout: {type: number, default: 0.1, min: 0, max: 0.9}
  tag: {type: string, default: none}
outputs:
  out_a: {type: uri_folder}
  out_b: {type: uri_folder}
environment: azureml:bench-env:1
"""


def step(i):
    name = f"step_{i:05d}"
    if i == 0:
        a = b = c = "${{parent.inputs.raw}}"
    else:
        a = f"${{{{parent.jobs.step_{i - 1:05d}.outputs.out_a}}}}"
        b = f"${{{{parent.jobs.step_{i // 2:05d}.outputs.out_b}}}}"
        c = (f"${{{{parent.jobs.step_{i - 3:05d}.outputs.out_a}}}}" if i >= 3
             else "${{parent.inputs.raw}}")
    return f"""\
  {name}:
    type: command
    component: ./component.yaml
    inputs:
      in_a: {a}
      in_b: {b}
      in_c: {c}
      lr: {(i % 9 + 1) / 100}
      epochs: {i % 50 + 1}
    outputs:
      out_a: {{type: uri_folder}}
      out_b: {{type: uri_folder}}
"""


def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "component.yaml"), "w") as f:
        f.write(COMPONENT)
    os.makedirs(os.path.join(out, "data"), exist_ok=True)
    with open(os.path.join(out, "pipeline.yaml"), "w") as f:
        f.write("$schema: https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json\n")
        f.write(f"type: pipeline\ndisplay_name: bench_{n}\n")
        f.write("inputs:\n  raw: {type: uri_folder, path: ./data}\n")
        f.write("jobs:\n")
        for i in range(n):
            f.write(step(i))


if __name__ == "__main__":
    main()
