#!/usr/bin/env python3
"""Runs `pipec check` on every pipeline file of the Azure ML corpus.

Pipeline files are the YAML files whose first document is a mapping with a
top-level `jobs:` key, found by parsing at run time. Each is checked under a
timeout and classified as clean, stopped on a diagnostic, or crash/hang. The
run fails on any crash or hang, when fewer files than the floor check clean,
and when a file stops on something other than the diagnostic expected for it
(an unsupported feature at its location, or a real defect in the file).

Usage: corpus_check.py PIPEC CORPUS_DIR
"""
import os
import re
import subprocess
import sys

import yaml

# Files that check clean today; never fewer (the bar is 32).
MIN_CLEAN = 39
TIMEOUT_S = 20

# Files that cannot check clean, with the code and a fragment of the first
# error: what stops them and why.
EXPECTED_STOPS = {
    # A registry component absent from the component path.
    "cli/jobs/pipelines-with-components/basics/1b_e2e_registered_components/pipeline.yml":
        ("E0702", "no component named 'my_train' on the component path"),
    "cli/jobs/pipelines-with-components/basics/1b_e2e_registered_components/pipeline-serverless.yml":
        ("E0702", "no component named 'my_train' on the component path"),
    # Registry components present only in another version.
    "azureml-assets/assets/training/distillation/components/data_generation_batch_scoring_pipeline/spec.yaml":
        ("E0702", "only in version"),
    "cli/jobs/pipelines/automl/cli-aml-demand-forecast-pipeline/cli-aml-demand-forecast-hts/hts_evaluation_pipeline.yml":
        ("E0702", "only in version"),
    # Node kinds pipec does not run.
    "cli/jobs/pipelines-with-components/pipeline_with_hyperparameter_sweep/pipeline.yml":
        ("E0801", "job type 'sweep'"),
    "cli/jobs/pipelines-with-components/shakespear_sample_and_word_count_using_spark/pipeline.yml":
        ("E0801", "job type 'spark'"),
    "cli/jobs/pipelines/automl/cli-automl-regression-housepricing-pipeline/pipeline.yml":
        ("E0801", "job type 'automl'"),
    # A prompt flow used as a component.
    "cli/jobs/pipelines-with-components/pipeline_job_with_flow_as_component/pipeline.yml":
        ("E0801", "job type 'flow'"),
    # A real defect: center_crop is declared enum ['True', 'False'].
    "cli/jobs/pipelines-with-components/image_classification_with_densenet/pipeline.yml":
        ("E0305", "'224' is not one of 'True', 'False'"),
}

DIAG = re.compile(r"^(?P<loc>.+?):(?P<line>\d+):(?P<col>\d+): error: (?P<msg>.*) \[(?P<code>[EW]\d{4})\]$")


def pipeline_files(root):
    found = []
    for dirpath, dirnames, files in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(files):
            if not name.endswith((".yml", ".yaml")):
                continue
            path = os.path.join(dirpath, name)
            try:
                with open(path, encoding="utf-8") as f:
                    first = next(yaml.safe_load_all(f), None)
            except (yaml.YAMLError, UnicodeDecodeError, OSError):
                continue
            if isinstance(first, dict) and "jobs" in first:
                found.append(os.path.relpath(path, root))
    return sorted(found)


def main():
    pipec, corpus = sys.argv[1], sys.argv[2]
    root = os.path.join(corpus, "azureml")
    if not os.path.isdir(root):
        print(f"corpus not found at {root}: skipped (it lives in ../shared/corpus)")
        return 77
    files = pipeline_files(root)
    clean, stopped, crashed, problems = [], [], [], []
    for rel in files:
        cmd = [pipec, "check", "--root", root, "--component-path",
               os.path.join(root, "azureml-assets"), os.path.join(root, rel)]
        try:
            r = subprocess.run(cmd, capture_output=True, text=True,
                               errors="replace", timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            crashed.append((rel, f"no answer within {TIMEOUT_S} s"))
            continue
        errors = [m for m in map(DIAG.match, r.stderr.splitlines()) if m]
        if r.returncode == 0:
            clean.append(rel)
        elif r.returncode == 1 and errors:
            stopped.append((rel, errors[0]))
        else:
            crashed.append((rel, f"exit {r.returncode}: {r.stderr.strip()[-300:]}"))

    print(f"{len(files)} pipeline files: {len(clean)} clean, "
          f"{len(stopped)} stopped on a diagnostic, {len(crashed)} crashed or hung")
    for rel, first in stopped:
        print(f"  stopped: {rel}\n    {first.group(0).replace(root + '/', '')}")
        want = EXPECTED_STOPS.get(rel)
        if not want:
            problems.append(f"{rel} does not check clean and is not expected to stop")
        elif first.group("code") != want[0] or want[1] not in first.group("msg"):
            problems.append(f"{rel} stops on [{first.group('code')}] {first.group('msg')!r}, "
                            f"expected [{want[0]}] containing {want[1]!r}")
        elif os.path.basename(first.group("loc")) != os.path.basename(rel) and want[0] != "E0305":
            problems.append(f"{rel}: the error is not located in the pipeline file")
    for rel, why in crashed:
        print(f"  CRASH/HANG: {rel}\n    {why}")
        problems.append(f"{rel} crashed or hung")
    for rel in clean:
        if rel in EXPECTED_STOPS:
            print(f"  now clean (drop it from EXPECTED_STOPS): {rel}")
    if len(clean) < MIN_CLEAN:
        problems.append(f"only {len(clean)} files check clean; at least {MIN_CLEAN} did")
    for p in problems:
        print("FAIL:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
