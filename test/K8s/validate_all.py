#!/usr/bin/env python3
"""Validates with k8s-validate (against the upstream schemas in
../shared/schemas) the manifests `pipec compile --target k8s` emits for
every example, every input of test/K8s (and one step of some alone, with --single) and
every corpus file that checks clean (no error, no warning). Zero failures, or exit 1.

The validator is copied into BUILD/k8s-validate and its node modules
installed there from its package-lock (`npm ci --prefer-offline`), since
../shared is read-only. Exits 77 (skipped) when node or npm is missing.

Usage: validate_all.py PIPEC SRC_ROOT VALIDATOR_DIR SCHEMAS_DIR BUILD_DIR [CORPUS]
"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile


def install(validator_src, build):
    dest = os.path.join(build, "k8s-validate")
    if os.path.isfile(os.path.join(dest, "node_modules", ".package-lock.json")):
        return dest
    if not shutil.which("node") or not shutil.which("npm"):
        print("skipped: node and npm are needed to run k8s-validate")
        sys.exit(77)
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(validator_src, dest,
                    ignore=shutil.ignore_patterns("node_modules"))
    subprocess.run(["npm", "ci", "--prefer-offline", "--no-audit", "--no-fund"],
                   cwd=dest, check=True, stdout=subprocess.DEVNULL)
    return dest


def main():
    pipec, src, validator_src, schemas, build = sys.argv[1:6]
    corpus = sys.argv[6] if len(sys.argv) > 6 else ""
    if not os.path.isdir(validator_src) or not os.path.isdir(schemas):
        # ../shared holds the validator and the upstream schemas; a clone
        # without it cannot validate (as the corpus tests skip without it).
        print("skipped: %s or %s is missing (set PIPEC_SHARED_DIR)"
              % (validator_src, schemas))
        return 77
    validator = install(validator_src, build)
    files = sorted(glob.glob(os.path.join(src, "examples", "*", "pipeline.*")))
    files += sorted(glob.glob(os.path.join(src, "test", "K8s", "Inputs", "*.yaml")))
    # (file, options): the objects --single emits without a Workflow.
    files = [(f, []) for f in files]
    files.append((os.path.join(src, "test", "K8s", "Inputs", "mpi.yaml"),
                  ["--single", "--job", "ranks"]))
    # A pipeline of more steps than one Argo DAG may hold (200 tasks): its
    # Workflow is split into parts (test/K8s/dag-parts.test).
    big = tempfile.mkdtemp(prefix="pipec-k8s-big-")
    subprocess.run([sys.executable,
                    os.path.join(src, "tools", "bench", "compile", "generate.py"),
                    "450", big], check=True, stdout=subprocess.DEVNULL)
    files.append((os.path.join(big, "pipeline.yaml"), []))
    expected = len(files)
    if corpus and os.path.isdir(corpus):
        for root, _, names in sorted(os.walk(corpus)):
            for n in sorted(names):
                if not n.endswith((".yaml", ".yml", ".pipe")):
                    continue
                f = os.path.join(root, n)
                r = subprocess.run([pipec, "check", "--Werror", f],
                                   stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
                if r.returncode == 0:
                    files.append((f, []))
    else:
        print("note: no corpus at '%s'; examples only" % corpus)
    failures = 0
    with tempfile.TemporaryDirectory() as out:
        for i, (f, options) in enumerate(files):
            dest = os.path.join(out, "%04d.yaml" % i)
            r = subprocess.run([pipec, "compile", "--target", "k8s", f,
                                "-o", dest] + options,
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
            shown = " ".join([f] + options)
            if r.returncode != 0:
                failures += 1
                print("FAIL compile %s:\n%s" % (shown, r.stderr))
            else:
                print("compiled %s -> %s" % (shown, os.path.basename(dest)))
        # The upstream schemas first; then pipec's for the RBAC kinds they
        # lack (test/K8s/schemas, see its file).
        extra = os.path.join(src, "test", "K8s", "schemas")
        r = subprocess.run(["node", os.path.join(validator, "validate.mjs"),
                            "--schemas", schemas, "--schemas", extra,
                            "--show-file", out],
                           stdout=subprocess.PIPE, text=True)
        print(r.stdout, end="")
        if r.returncode != 0:
            failures += 1
    shutil.rmtree(big, ignore_errors=True)
    print("%d files (%d examples and test inputs, %d from the corpus), "
          "%d failures" % (len(files), expected, len(files) - expected,
                           failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
