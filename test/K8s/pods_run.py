#!/usr/bin/env python3
"""Runs the pods of `pipec compile --target k8s` locally and compares their
outputs with `pipec run`'s, byte for byte (a test harness, not a product
feature).

The Workflow's DAG tasks run in order; each resource template's manifest
(parameters substituted) and each container template becomes pods whose
containers run their manifest's command, working directory and environment
(ConfigMap keys resolved). Every volume mount is mapped onto a folder
under a temporary root: the run's claim (subPath), ConfigMaps (their items
written out), emptyDirs; and every /ml, /opt/pipec and /pipec/state path in
commands, variables and config files is rewritten to that root. Local data
is copied onto the claim as the header comment of the manifests says.
An Indexed Job runs one process per JOB_COMPLETION_INDEX, side by side;
with --kill, pod 1 is killed (its whole process group, as when a node
dies) after its first commit and started again, and the mini-batches it had
committed must not run again.

Usage: pods_run.py PIPEC PIPELINE WORKDIR [--kill]
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import yaml

PATHS = re.compile(r"(?<![A-Za-z0-9_./-])(/ml|/opt/pipec|/pipec/state)"
                   r"(?=[/\s\"',:]|$)")


class Cluster:
    def __init__(self, docs, work, pipeline_dir):
        self.work = work
        self.configmaps = {}
        self.claim_name = None
        self.workflow = None
        for d in docs:
            if not d:
                continue
            kind = d["kind"]
            if kind == "ConfigMap":
                self.configmaps[d["metadata"]["name"]] = d
            elif kind == "PersistentVolumeClaim":
                self.claim_name = d["metadata"]["name"]
            elif kind == "Workflow":
                self.workflow = d
        self.claim = os.path.join(work, "claim")
        os.makedirs(self.claim, exist_ok=True)
        self.pipeline_dir = pipeline_dir
        self.pods = 0
        self.step_names = {
            cm["metadata"]["labels"]["pipec.dev/step"]:
                cm["metadata"]["annotations"]["pipec.dev/step-name"]
            for cm in self.configmaps.values()
            if "annotations" in cm["metadata"]}

    def upload(self, header):
        """Copies local data where the header comment puts it."""
        for line in header:
            m = re.match(r"#   (.*) -> (.*)$", line)
            if m:
                src = os.path.join(self.pipeline_dir, m.group(1))
                dst = os.path.join(self.claim, m.group(2))
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                if os.path.isdir(src):
                    shutil.copytree(src, dst)
                else:
                    shutil.copy(src, dst)

    def configmap_value(self, name, key):
        return self.configmaps[name]["data"][key]

    def pod(self, spec, env_extra=None):
        """Prepares the pod's one container: (argv, env, cwd)."""
        self.pods += 1
        root = os.path.join(self.work, "pods", str(self.pods))
        if spec.get("initContainers"):
            raise SystemExit("init containers are not run by this harness")
        (c,) = spec["containers"]
        volumes = {v["name"]: v for v in spec.get("volumes", [])}

        def rewrite(s):
            return PATHS.sub(lambda m: root + m.group(1), s)

        for m in c.get("volumeMounts", []):
            v = volumes[m["name"]]
            target = root + m["mountPath"]
            if "persistentVolumeClaim" in v:
                if v["persistentVolumeClaim"]["claimName"] != self.claim_name:
                    raise SystemExit("only the run's claim is mapped")
                src = os.path.join(self.claim, m.get("subPath", ""))
                if not os.path.exists(src):
                    os.makedirs(src)
            elif "configMap" in v:
                cm = self.configmaps[v["configMap"]["name"]]
                src = os.path.join(root, "cm", m["name"])
                for item in v["configMap"].get("items", []):
                    path = os.path.join(src, item["path"])
                    os.makedirs(os.path.dirname(path), exist_ok=True)
                    data = cm.get("data", {})
                    with open(path, "w") as fh:
                        fh.write(rewrite(data[item["key"]]))
                if "items" not in v["configMap"]:
                    os.makedirs(src, exist_ok=True)
                    for k, text in cm.get("data", {}).items():
                        with open(os.path.join(src, k), "w") as fh:
                            fh.write(text)
            else:
                src = os.path.join(root, "empty", m["name"])
                os.makedirs(src, exist_ok=True)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.symlink(src, target)
        env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/")}
        for e in c.get("env", []):
            ref = e["valueFrom"]["configMapKeyRef"]
            env[e["name"]] = rewrite(self.configmap_value(ref["name"],
                                                          ref["key"]))
        env.update(env_extra or {})
        cwd = root + c["workingDir"]
        os.makedirs(cwd, exist_ok=True)
        return [rewrite(w) for w in c["command"]], env, cwd, root

    def start(self, spec, env_extra=None):
        argv, env, cwd, _ = self.pod(spec, env_extra)
        return subprocess.Popen(argv, env=env, cwd=cwd, start_new_session=True)


def substitute(text, params):
    for k, v in params.items():
        text = text.replace("{{inputs.parameters.%s}}" % k, v)
    return text.replace("{{workflow.name}}", "local")


def run_indexed(cluster, job, kill, calls):
    spec = job["spec"]["template"]["spec"]
    n = job["spec"]["completions"]
    env = {"PIPEC_TEST_CALLS": calls} if kill else {}
    procs = {i: cluster.start(spec, dict(env, JOB_COMPLETION_INDEX=str(i)))
             for i in range(n)}
    report = {}
    if kill and n > 1:
        state = os.path.join(cluster.claim, "state",
                             job["metadata"]["name"])
        mine = []
        deadline = time.time() + 120
        while not mine and time.time() < deadline:
            for root, _, files in os.walk(state):
                if os.path.basename(root) == "done":
                    mine = [f for f in files
                            if f.isdigit() and int(f) % n == 1]
            time.sleep(0.005)
        os.killpg(procs[1].pid, signal.SIGKILL)
        procs[1].wait()
        committed = {}
        for root, _, files in os.walk(state):
            if os.path.basename(root) == "done":
                for f in files:
                    if f.isdigit() and int(f) % n == 1:
                        with open(os.path.join(root, f)) as fh:
                            rows = fh.read().splitlines()[1:]
                        committed[int(f)] = " ".join(r.split()[0]
                                                     for r in rows)
        report["committed_at_kill"] = committed
        report["pods"] = n
        report["state"] = [r for r, _, f in os.walk(state) if "count" in f][0]
        procs[1] = cluster.start(spec, dict(env, JOB_COMPLETION_INDEX="1"))
    for i, p in procs.items():
        if p.wait() != 0:
            raise SystemExit("pod %d of %s failed (%d)"
                             % (i, job["metadata"]["name"], p.returncode))
    return report


def main():
    pipec, pipeline, work = sys.argv[1:4]
    kill = "--kill" in sys.argv[4:]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    env = dict(os.environ, PATH="/usr/bin:" + os.environ.get("PATH", ""))
    subprocess.run([pipec, "run", "--workdir", os.path.join(work, "local"),
                    pipeline], check=True, env=env, stdout=subprocess.DEVNULL)
    out = os.path.join(work, "k8s.yaml")
    subprocess.run([pipec, "compile", "--target", "k8s", pipeline, "-o", out],
                   check=True, stderr=subprocess.DEVNULL)
    with open(out) as fh:
        text = fh.read()
    cluster = Cluster(list(yaml.safe_load_all(text)), work,
                      os.path.dirname(os.path.abspath(pipeline)))
    cluster.upload([l for l in text.splitlines() if l.startswith("#")])
    templates = {t["name"]: t for t in cluster.workflow["spec"]["templates"]}
    calls = os.path.join(work, "calls.txt")
    report = {}
    for task in templates["main"]["dag"]["tasks"]:
        params = {p["name"]: p["value"]
                  for p in task.get("arguments", {}).get("parameters", [])}
        t = templates[task["template"]]
        if "resource" in t:
            job = yaml.safe_load(substitute(t["resource"]["manifest"], params))
            if job["kind"] != "Job":
                raise SystemExit("%s: only batch/v1 Jobs run here"
                                 % job["kind"])
            if job["spec"].get("completionMode") == "Indexed":
                report.update(run_indexed(cluster, job, kill, calls))
            else:
                p = cluster.start(job["spec"]["template"]["spec"])
                if p.wait() != 0:
                    raise SystemExit("job %s failed" % job["metadata"]["name"])
        else:
            t = json.loads(substitute(json.dumps(t), params))
            spec = {"containers": [t["container"]],
                    "volumes": t.get("volumes", [])}
            if cluster.start(spec).wait() != 0:
                raise SystemExit("task %s failed" % task["name"])
        print("ran", task["name"])
    # Every output of every step, byte for byte.
    local = os.path.join(work, "local", "runs", "latest")
    compared = 0
    for dns, step in sorted(cluster.step_names.items()):
        outputs = os.path.join(local, step, "ml", "output")
        for ch in sorted(os.listdir(outputs)):
            for root, _, files in os.walk(os.path.join(outputs, ch)):
                for f in files:
                    mine = os.path.join(root, f)
                    rel = os.path.relpath(mine, outputs)
                    theirs = os.path.join(cluster.claim, "steps", dns, rel)
                    with open(mine, "rb") as a, open(theirs, "rb") as b:
                        if a.read() != b.read():
                            raise SystemExit("%s differs from pipec run's %s"
                                             % (theirs, mine))
                    compared += 1
    print("compared %d output files: equal" % compared)
    if kill:
        at_kill = report.get("committed_at_kill")
        print("committed by pod 1 before the kill:", sorted(at_kill))
        if not at_kill:
            raise SystemExit("pod 1 was not killed after a commit")
        with open(calls) as fh:
            runs = fh.read().splitlines()
        repeated = sorted({b for b in runs if runs.count(b) > 1})
        print("mini-batches run twice (in flight at the kill):", repeated)
        for k, names in sorted(at_kill.items()):
            if runs.count(names) != 1:
                raise SystemExit("mini-batch %d (%s) was committed before "
                                 "the kill and ran again" % (k, names))
        with open(os.path.join(report["state"], "count")) as fh:
            pod_batches = len(range(1, int(fh.read()), report["pods"]))
        if len(at_kill) >= pod_batches:
            raise SystemExit("pod 1 had finished when it was killed")
        print("pod 1 killed mid-way and run again: ok")


if __name__ == "__main__":
    main()
