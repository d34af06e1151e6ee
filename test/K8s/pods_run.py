#!/usr/bin/env python3
"""Runs the pods of `pipec compile --target k8s` locally and compares their
outputs with `pipec run`'s, byte for byte (a test harness, not a product
feature).

The Workflow's DAG tasks run in order; each resource template's manifest
(parameters substituted) and each container template becomes pods whose
containers run their manifest's command, working directory and environment
(ConfigMap keys resolved). Every volume mount is mapped onto a folder
under a temporary root: the run's claim (subPath), ConfigMaps (their items
written out), emptyDirs; and every /ml, /opt/pipec, /pipec/state and
/pipec/code path in commands, variables and config files is rewritten to
that root. A ConfigMap is written as the kubelet writes it (a time-stamped
folder, `..data`, a link per top-level name). Init containers with a
command (the layout one: the code copied, ./outputs and ./logs linked) run
first, in the pod's root; an emptyDir is a folder at the path it is
mounted at, so links inside it resolve as in the pod. Local data is copied
onto the claim as the header comment of the manifests says. Each output is
compared where the step's pods mount /ml/output/<channel> from the claim:
the same files, the same bytes.
An Indexed Job runs one process per JOB_COMPLETION_INDEX, side by side;
that of a multi-process command job (the step's task is a DAG: `job`
creates it, `service` its headless Service, owned by the Job through the
uid `job` gave, and `wait` waits for it) runs once its Service is there:
the Service must select the pods, be the pods' subdomain and name pod 0
in MASTER_ADDR (`<job>-0.<service>`), which is then mapped to
127.0.0.1 (and MASTER_PORT, the Service's port, to a free one). With
--kill, pod 1 is killed (its whole process group, as when a node
dies) after its first commit and started again, and the mini-batches it had
committed must not run again.

An ElasticBatchJob runs its AIMaster pod first, as the run's service
account (its token, CA and namespace written where the kubelet mounts them,
the API server a local HTTPS fake that records requests), at a loopback
address of its own as the pod IP; its workers start only once it has
marked the job `aimaster: "ready"`, as KubeDL holds them until then. With
--kill, worker 1 starts alone, finishes a shard, takes another and holds
it; then the other workers start, worker 1 is killed and started again:
the held shard goes to another worker, and every shard runs exactly once.

Usage: pods_run.py PIPEC PIPELINE WORKDIR [--kill]
"""
import base64
import http.server
import json
import os
import random
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time

import yaml

PATHS = re.compile(r"(?<![A-Za-z0-9_./-])(/ml|/opt/pipec|/pipec/state|"
                   r"/pipec/code)"
                   r"(?=[/\s\"',:]|$)")


class Cluster:
    def __init__(self, docs, work, pipeline_dir):
        self.work = work
        self.configmaps = {}
        self.claim_name = None
        self.workflow = None
        self.rbac = {}
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
            elif kind in ("ServiceAccount", "Role", "RoleBinding"):
                self.rbac[kind, d["metadata"]["name"]] = d
        self.claim = os.path.join(work, "claim")
        os.makedirs(self.claim, exist_ok=True)
        self.pipeline_dir = pipeline_dir
        self.pods = 0
        self.init_runs = 0
        # Where each job's pods mount /ml/output/<channel>: job -> channel
        # -> claim subPath.
        self.outputs = {}
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

    def may(self, account, verb, group, resource):
        """True when a RoleBinding gives `account` a Role allowing it."""
        if ("ServiceAccount", account) not in self.rbac:
            return False
        for (kind, _), b in self.rbac.items():
            if kind != "RoleBinding" or not any(
                    s["kind"] == "ServiceAccount" and s["name"] == account
                    for s in b["subjects"]):
                continue
            role = self.rbac.get(("Role", b["roleRef"]["name"]))
            for rule in (role or {}).get("rules", []):
                if (group in rule["apiGroups"] and resource in rule["resources"]
                        and verb in rule["verbs"]):
                    return True
        return False

    def pod(self, spec, env_extra=None, fields=None):
        """Prepares the pod: runs its init containers (those with a
        command; a git clone or a fetch is not run here), then returns its
        one container's (argv, env, cwd, root). The containers share the
        pod's root: an emptyDir is a folder at the path it is first mounted
        at (so that relative links inside it resolve as in the pod), other
        volumes are links to their folders."""
        self.pods += 1
        root = os.path.join(self.work, "pods", str(self.pods))
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        mounted = {}  # mount path -> (volume, subPath)
        empties = {}  # emptyDir volume -> its folder

        def rewrite(s):
            return PATHS.sub(lambda m: root + m.group(1), s)

        def mount(c):
            for m in c.get("volumeMounts", []):
                what = (m["name"], m.get("subPath", ""))
                if m["mountPath"] in mounted:
                    if mounted[m["mountPath"]] != what:
                        raise SystemExit("two volumes at %s" % m["mountPath"])
                    continue
                mounted[m["mountPath"]] = what
                v = volumes[m["name"]]
                target = root + m["mountPath"]
                if "persistentVolumeClaim" in v:
                    if (v["persistentVolumeClaim"]["claimName"]
                            != self.claim_name):
                        raise SystemExit("only the run's claim is mapped")
                    src = os.path.join(self.claim, m.get("subPath", ""))
                    if not os.path.exists(src):
                        os.makedirs(src)
                elif "configMap" in v:
                    cm = self.configmaps[v["configMap"]["name"]]
                    src = os.path.join(root, "cm", m["name"])
                    # As the kubelet writes it: the files in a time-stamped
                    # folder, `..data` a link to it, and a link per top-level
                    # name into `..data`.
                    stamp = "..2026_01_01_00_00_00.000000001"
                    for item in v["configMap"].get("items", []):
                        path = os.path.join(src, stamp, item["path"])
                        os.makedirs(os.path.dirname(path), exist_ok=True)
                        data = cm.get("data", {})
                        if item["key"] in data:
                            with open(path, "w") as fh:
                                fh.write(rewrite(data[item["key"]]))
                        else:
                            with open(path, "wb") as fh:
                                fh.write(base64.b64decode(
                                    cm["binaryData"][item["key"]]))
                        top = item["path"].split("/")[0]
                        if not os.path.lexists(os.path.join(src, top)):
                            os.symlink(os.path.join("..data", top),
                                       os.path.join(src, top))
                    if v["configMap"].get("items"):
                        os.symlink(stamp, os.path.join(src, "..data"))
                    if "items" not in v["configMap"]:
                        os.makedirs(src, exist_ok=True)
                        for k, text in cm.get("data", {}).items():
                            with open(os.path.join(src, k), "w") as fh:
                                fh.write(text)
                elif m["name"] in empties:
                    src = empties[m["name"]]
                else:
                    os.makedirs(target)
                    empties[m["name"]] = target
                    continue
                os.makedirs(os.path.dirname(target), exist_ok=True)
                os.symlink(src, target)

        def prepare(c):
            mount(c)
            env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/")}
            for e in c.get("env", []):
                if "value" in e:  # $(VAR) of a variable defined before it
                    env[e["name"]] = rewrite(re.sub(
                        r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)",
                        lambda m: env.get(m.group(1), m.group(0)), e["value"]))
                elif "fieldRef" in e["valueFrom"]:
                    env[e["name"]] = fields[
                        e["valueFrom"]["fieldRef"]["fieldPath"]]
                else:
                    ref = e["valueFrom"]["configMapKeyRef"]
                    env[e["name"]] = rewrite(self.configmap_value(ref["name"],
                                                                  ref["key"]))
            env.update(env_extra or {})
            cwd = root + c.get("workingDir", "/")
            os.makedirs(cwd, exist_ok=True)
            return [rewrite(w) for w in c["command"]], env, cwd

        for c in spec.get("initContainers", []):
            if "command" not in c:
                raise SystemExit("init container %s is not run by this "
                                 "harness" % c["name"])
            argv, env, cwd = prepare(c)
            if subprocess.run(argv, env=env, cwd=cwd).returncode != 0:
                raise SystemExit("init container %s failed" % c["name"])
            self.init_runs += 1
        (c,) = spec["containers"]
        argv, env, cwd = prepare(c)
        return argv, env, cwd, root

    def start(self, spec, env_extra=None, fields=None, stderr=None):
        argv, env, cwd, _ = self.pod(spec, env_extra, fields)
        return subprocess.Popen(argv, env=env, cwd=cwd, start_new_session=True,
                                stderr=stderr)


class FakeApi:
    """A Kubernetes API server on 127.0.0.1 over HTTPS (a certificate made
    here) that answers PATCHes of ElasticBatchJobs and records them."""

    def __init__(self, work):
        self.dir = os.path.join(work, "fake-api")
        os.makedirs(self.dir, exist_ok=True)
        self.cert = os.path.join(self.dir, "ca.crt")
        key = os.path.join(self.dir, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-keyout", key, "-out", self.cert,
                        "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
                        "subjectAltName=IP:127.0.0.1"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.token = "token-%d" % random.randrange(1 << 30)
        self.requests = []
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_PATCH(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                api.requests.append({
                    "path": self.path, "body": json.loads(body),
                    "type": self.headers["Content-Type"],
                    "auth": self.headers["Authorization"] ==
                    "Bearer " + api.token})
                ok = (self.headers["Authorization"] == "Bearer " + api.token
                      and self.headers["Content-Type"] ==
                      "application/merge-patch+json")
                self.send_response(200 if ok else 401)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                      Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert, key)
        self.server.socket = ctx.wrap_socket(self.server.socket,
                                             server_side=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def pod_env(self, root, namespace):
        """What the kubelet gives a pod of a service account."""
        sa = os.path.join(root, "var/run/secrets/kubernetes.io/serviceaccount")
        os.makedirs(sa, exist_ok=True)
        for name, text in (("token", self.token), ("namespace", namespace)):
            with open(os.path.join(sa, name), "w") as fh:
                fh.write(text)
        shutil.copy(self.cert, os.path.join(sa, "ca.crt"))
        return {"KUBERNETES_SERVICE_HOST": "127.0.0.1",
                "KUBERNETES_SERVICE_PORT": str(self.server.server_address[1]),
                "PIPEC_SERVICEACCOUNT_DIR": sa}

    def marked_ready(self, namespace, job):
        path = ("/apis/inference.kubedl.io/v1alpha1/namespaces/%s/"
                "elasticbatchjobs/%s" % (namespace, job))
        return [r for r in self.requests if r["path"] == path and r["auth"]
                and r["type"] == "application/merge-patch+json"
                and r["body"] == {"metadata": {"annotations":
                                               {"aimaster": "ready"}}}]


def run_elasticbatch(cluster, job, kill, success):
    """The AIMaster pod, then (once it marked the job ready) the workers."""
    name, ns = job["metadata"]["name"], job["metadata"]["namespace"]
    specs = job["spec"]["elasticBatchReplicaSpecs"]
    am = specs["AIMaster"]
    if am["replicas"] != 1 or am["restartPolicy"] != "Never":
        raise SystemExit("the AIMaster must be 1 replica, restartPolicy Never")
    spec = am["template"]["spec"]
    account = spec["serviceAccountName"]
    if not cluster.may(account, "patch", "inference.kubedl.io",
                       "elasticbatchjobs"):
        raise SystemExit("service account %s may not patch elasticbatchjobs"
                         % account)
    api = FakeApi(cluster.work)
    root = os.path.join(cluster.work, "sa-" + name)
    ip = "127.%d.%d.%d" % (random.randrange(1, 255), random.randrange(256),
                           random.randrange(1, 255))
    am_log = os.path.join(cluster.work, name + "-aimaster.log")
    with open(am_log, "w") as err:
        master = cluster.start(spec, api.pod_env(root, ns),
                               {"status.podIP": ip, "metadata.namespace": ns},
                               stderr=err)
    # KubeDL holds the workers until the job is marked ready.
    deadline = time.time() + 120
    while not api.marked_ready(ns, name):
        if master.poll() is not None or time.time() > deadline:
            raise SystemExit("the AIMaster did not mark %s ready" % name)
        time.sleep(0.01)
    print("AIMaster of %s: PATCH %s (merge-patch, as %s): ready"
          % (name, api.requests[0]["path"], account))
    wspec = specs["Worker"]["template"]["spec"]
    n = specs["Worker"]["replicas"]
    calls = os.path.join(cluster.work, name + "-workers.log")

    def worker(i, extra=None):
        env = {"ElASTICBATCH_CONFIG": json.dumps(
            {"task": {"type": "worker", "index": i}, "environment": "cloud"}),
            "PIPEC_TEST_LOG": calls}
        return cluster.start(wspec, dict(env, **(extra or {})))

    def lines(kind):
        try:
            with open(calls) as fh:
                return [l.split() for l in fh if l.startswith(kind + " ")]
        except FileNotFoundError:
            return []

    procs = {}
    held = None
    if kill and n > 1:
        procs[1] = worker(1, {"PIPEC_TEST_HOLD": "1"})
        deadline = time.time() + 120
        while not lines("hold"):
            if procs[1].poll() is not None or time.time() > deadline:
                raise SystemExit("worker 1 never held a shard")
            time.sleep(0.01)
        held = int(lines("hold")[0][1])
    for i in range(n):
        if i not in procs:
            procs[i] = worker(i)
    if held is not None:
        os.killpg(procs[1].pid, signal.SIGKILL)
        procs[1].wait()
        print("worker 1 killed holding shard %d, started again" % held)
        procs[1] = worker(1)
    for i, p in sorted(procs.items()):
        if p.wait() != 0:
            raise SystemExit("worker %d of %s failed (%d)"
                             % (i, name, p.returncode))
    code = master.wait()
    with open(am_log) as fh:
        text = fh.read()
    sys.stderr.write(text)
    if code != 0:
        raise SystemExit("the AIMaster of %s failed (%d)" % (name, code))
    finished = [int(m) for m in re.findall(r"shard (\d+) finished by", text)]
    total = int(re.search(r"(\d+) shards of", text).group(1))
    done = [int(l[1]) for l in lines("done")]
    print("shards: %d; finished once each: %s; run once each: %s"
          % (total, sorted(finished) == list(range(total)),
             sorted(done) == list(range(total))))
    if sorted(finished) != list(range(total)) or \
            sorted(done) != list(range(total)):
        raise SystemExit("finished %s, run %s" % (finished, done))
    if held is not None:
        if "shard %d given back" % held not in text:
            raise SystemExit("shard %d was not given back" % held)
        print("shard %d given back by the killed worker, run once" % held)
    # The Workflow's success condition over the replica statuses.
    status = {"replicaStatuses": {"AIMaster": {"succeeded": 1},
                                  "Worker": {"succeeded": n}}}
    path, _, count = success.partition(" > ")
    value = {"status": status}
    for part in path.split("."):
        value = value.get(part, {}) if isinstance(value, dict) else {}
    print("success condition %s: %s" % (success, value > int(count)))


def substitute(text, params):
    for k, v in params.items():
        text = text.replace("{{inputs.parameters.%s}}" % k, v)
    return text.replace("{{workflow.name}}", "local")


def json_path(obj, path):
    """A `{.a.b}` JSONPath of Argo's valueFrom."""
    for part in path.strip("{}").strip(".").split("."):
        obj = obj[part]
    return obj


def condition(text, status):
    """An Argo success or failure condition `status.X > N` on `status`."""
    path, _, count = text.partition(" > ")
    value = {"status": status}
    for part in path.split("."):
        value = value.get(part, 0) if isinstance(value, dict) else 0
    return value > int(count)


def check_service(svc, created):
    """A multi-process job's Service: headless, owned by its Job."""
    name = svc["metadata"]["name"]
    spec = svc["spec"]
    if spec.get("clusterIP") != "None" or \
            not spec.get("publishNotReadyAddresses"):
        raise SystemExit("Service %s is not headless with every pod "
                         "published" % name)
    owners = svc["metadata"].get("ownerReferences", [])
    if [(o["kind"], o["name"], o["uid"]) for o in owners] != \
            [("Job", name, created[name]["metadata"]["uid"])]:
        raise SystemExit("Service %s is not owned by Job %s: %s"
                         % (name, name, owners))


def rank_addresses(job, services):
    """MASTER_ADDR and MASTER_PORT of a multi-process job's pods, mapped
    onto this machine once the names they hold are checked."""
    spec = job["spec"]["template"]["spec"]
    name = job["metadata"]["name"]
    svc = services.get(spec["subdomain"])
    if svc is None:
        raise SystemExit("no Service %s for the pods of %s"
                         % (spec["subdomain"], name))
    labels = job["spec"]["template"]["metadata"]["labels"]
    if any(labels.get(k) != v for k, v in svc["spec"]["selector"].items()):
        raise SystemExit("Service %s does not select the pods of %s"
                         % (spec["subdomain"], name))
    (c,) = spec["containers"]
    env = {e["name"]: e["value"] for e in c["env"] if "value" in e}
    # An Indexed Job's pod i is host <job>-i of its subdomain.
    pod0 = "%s-0.%s" % (name, spec["subdomain"])
    if env["MASTER_ADDR"] != pod0:
        raise SystemExit("MASTER_ADDR of %s is %s, not pod 0 (%s)"
                         % (name, env["MASTER_ADDR"], pod0))
    if int(env["MASTER_PORT"]) not in [p["port"]
                                       for p in svc["spec"]["ports"]]:
        raise SystemExit("MASTER_PORT %s is not a port of Service %s"
                         % (env["MASTER_PORT"], spec["subdomain"]))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    print("MASTER_ADDR %s is pod 0 of %s through the headless Service %s: "
          "127.0.0.1; MASTER_PORT %s: a free port"
          % (pod0, name, spec["subdomain"], env["MASTER_PORT"]))
    return {"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)}


def run_indexed(cluster, job, kill, calls, extra=None):
    spec = job["spec"]["template"]["spec"]
    n = job["spec"]["completions"]
    env = {"PIPEC_TEST_CALLS": calls} if kill else {}
    env.update(extra or {})
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


def record_outputs(cluster, job, obj):
    """Where the pods of `job` mount /ml/output/<channel> on the claim."""
    if isinstance(obj, list):
        for o in obj:
            record_outputs(cluster, job, o)
    elif isinstance(obj, dict):
        for m in obj.get("volumeMounts", []):
            if m["mountPath"].startswith("/ml/output/") and "subPath" in m:
                cluster.outputs.setdefault(job, {})[
                    m["mountPath"][len("/ml/output/"):]] = m["subPath"]
        for o in obj.values():
            record_outputs(cluster, job, o)


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
    created, services = {}, {}

    def run_dag(tasks, scope, path):
        """The tasks of a DAG template in order (they are listed after
        what they depend on), `scope` its input parameters."""
        outputs = {}
        for task in tasks:
            def value(v):
                v = re.sub(r"\{\{tasks\.([^.]+)\.outputs\.parameters\."
                           r"([^}]+)\}\}",
                           lambda m: outputs[m.group(1)][m.group(2)], v)
                return substitute(v, scope)
            params = {p["name"]: value(p["value"]) for p in
                      task.get("arguments", {}).get("parameters", [])}
            outputs[task["name"]] = run_task(task, params)
            print("ran", path + task["name"])

    def run_task(task, params):
        """Runs one task's template; returns its output parameters."""
        t = templates[task["template"]]
        r = t.get("resource", {})
        if "dag" in t:
            run_dag(t["dag"]["tasks"], params, task["name"] + ".")
        elif r and "successCondition" not in r and r["action"] == "create":
            # Made, and the Workflow goes on: a Job whose uid a Service
            # owner takes, and that Service.
            obj = yaml.safe_load(substitute(r["manifest"], params))
            name = obj["metadata"]["name"]
            if obj["kind"] == "Job":
                obj["metadata"]["uid"] = "uid-of-" + name
                created[name] = obj
                record_outputs(cluster, name, obj)
            elif obj["kind"] == "Service":
                check_service(obj, created)
                services[name] = obj
            else:
                raise SystemExit("%s: not made by this harness" % obj["kind"])
            return {p["name"]: json_path(obj, p["valueFrom"]["jsonPath"])
                    for p in t.get("outputs", {}).get("parameters", [])}
        elif r and r["action"] == "get":
            # The wait for a Job made before: its pods run now.
            obj = yaml.safe_load(substitute(r["manifest"], params))
            job = created[obj["metadata"]["name"]]
            n = job["spec"]["completions"]
            report.update(run_indexed(cluster, job, False, calls,
                                      rank_addresses(job, services)))
            status = {"succeeded": n, "failed": 0}
            if not condition(r["successCondition"], status) or \
                    condition(r["failureCondition"], status):
                raise SystemExit("%s: the conditions do not say that %d "
                                 "ranks succeeded" % (task["name"], n))
            print("%d ranks: success condition %s: %s; failure condition "
                  "%s: %s" % (n, r["successCondition"],
                              condition(r["successCondition"], status),
                              r["failureCondition"],
                              condition(r["failureCondition"], status)))
        elif r:
            job = yaml.safe_load(substitute(r["manifest"], params))
            record_outputs(cluster, job["metadata"]["name"], job)
            if job["kind"] == "ElasticBatchJob":
                run_elasticbatch(cluster, job, kill,
                                 t["resource"]["successCondition"])
            elif job["kind"] != "Job":
                raise SystemExit("%s: only batch/v1 Jobs run here"
                                 % job["kind"])
            elif job["spec"].get("completionMode") == "Indexed":
                report.update(run_indexed(cluster, job, kill, calls))
            else:
                p = cluster.start(job["spec"]["template"]["spec"])
                if p.wait() != 0:
                    raise SystemExit("job %s failed" % job["metadata"]["name"])
        else:
            t = json.loads(substitute(json.dumps(t), params))
            record_outputs(cluster, params["name"], t)
            spec = {"containers": [t["container"]],
                    "volumes": t.get("volumes", [])}
            if cluster.start(spec).wait() != 0:
                raise SystemExit("task %s failed" % task["name"])
        return {}

    run_dag(templates["main"]["dag"]["tasks"], {}, "")
    # Every output of every step, byte for byte: what pipec run has in
    # ml/output/<channel> against the claim folder the step's pods mount
    # there. A file on one side only is a difference.
    local = os.path.join(work, "local", "runs", "latest")
    compared = 0
    for dns, step in sorted(cluster.step_names.items()):
        outputs = os.path.join(local, step, "ml", "output")
        if not os.path.isdir(outputs):
            continue
        for ch in sorted(os.listdir(outputs)):
            top = os.path.join(outputs, ch)
            at = os.path.join(cluster.claim,
                              cluster.outputs.get(dns, {}).get(ch, "-"))
            if not os.path.isdir(at):
                raise SystemExit("output %s of %s is not mounted from the "
                                 "claim" % (ch, dns))
            mine = sorted(os.path.relpath(os.path.join(r, f), top)
                          for r, _, fs in os.walk(top) for f in fs)
            theirs = sorted(os.path.relpath(os.path.join(r, f), at)
                            for r, _, fs in os.walk(at) for f in fs)
            if mine != theirs:
                raise SystemExit("output %s of %s: pipec run has %s, the "
                                 "pods %s" % (ch, dns, mine, theirs))
            for rel in mine:
                with open(os.path.join(top, rel), "rb") as a, \
                        open(os.path.join(at, rel), "rb") as b:
                    if a.read() != b.read():
                        raise SystemExit("%s differs from pipec run's %s"
                                         % (os.path.join(at, rel),
                                            os.path.join(top, rel)))
                compared += 1
    print("compared %d output files: equal" % compared)
    if cluster.init_runs:
        print("ran %d init containers" % cluster.init_runs)
    if kill and "committed_at_kill" in report:
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
