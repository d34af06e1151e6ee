#!/usr/bin/env python3
"""Round trip of `pipec compile --target azureml` over the examples and the
Azure ML corpus.

For every example file and every corpus pipeline file (found as
test/Corpus/corpus_check.py finds them) that `pipec check` passes, the file
is written as Azure ML YAML in both layouts pipec offers:
  dir:    -o DIR/  (DIR/pipeline.yml, DIR/components/NAME.yml)
  inline: -o FILE  (one file, every component inline)
and each emitted pipeline must check clean again and compile to the same IR
(`pipec compile --emit=ir`) as the original, after the normalisations below,
each applied to both sides and each for a stated reason:

  paths      Local paths in the IR dump are relative to the folder of the
             compiled file, and the emitted file lives elsewhere: code,
             default paths, bound paths and the paths inside kept
             environments (conda_file, build.path) and additional_includes
             are made absolute against each file's own folder.
  schema     `$schema` is dropped from kept keys: the emitter writes the URL
             of the schema Azure ML expects for each file, while sources
             often carry none or a wrong one.
  required   Keys Azure ML requires that the source may leave out, added by
             the emitter, are dropped from the emitted side where the
             original has none at that place: a component's `environment`,
             a parallel task's `type` (run_function) and `environment`.
  env        Azure ML takes environment variables on jobs, not in component
             specs: a component's variables are written on each job that
             runs it (where the step's list, compared as is, has them), so
             `environment_variables` of components in a pipeline is dropped.
  inline     (inline layout only) A named component becomes the job's own
             mapping, which carries the step's effective resources,
             distribution and parallel settings: on the original side each
             step's component reference is replaced by the component with
             the step's settings, and the list of named components by the
             ones still referenced by name (registry components).

Usage: roundtrip.py PIPEC SRC_ROOT CORPUS_DIR [FILE...]
  (with FILEs: those files only, and each must check clean)
Exits 0 when every file round-trips, 1 otherwise; prints each difference.
"""
import copy
import difflib
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "Corpus"))
import corpus_check  # noqa: E402  (pipeline_files: the one finder)

TIMEOUT_S = 60
ADDED_EXTRA = {("environment",), ("task", "type"), ("task", "environment"),
               ("task",)}


def run(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True,
                              errors="replace", timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(cmd, 124, "", "timed out")


def absolute(path, base):
    if not path or "://" in path or path.startswith(("azureml:", "git+")):
        return path
    return os.path.normpath(os.path.join(base, path))


def norm_paths(node, base, decl_base=None):
    """Makes every local path of the dump absolute: those the dump writes
    relative to the compiled file's folder against `base`, those kept as the
    source wrote them against the folder of the file that declares them
    (from the dump's locations). Drops the locations."""
    if isinstance(node, list):
        for x in node:
            norm_paths(x, base, decl_base)
        return
    if not isinstance(node, dict):
        return
    loc = node.pop("loc", None)
    if isinstance(loc, str):
        decl_base = os.path.dirname(os.path.abspath(loc.rsplit(":", 2)[0]))
    if "command" in node and "code" in node and isinstance(node["code"], str):
        if not node["code"].startswith(("http", "git@", "azureml:", "git+")):
            node["code"] = absolute(node["code"], base) if node["code"] else ""
    if "default_path" in node:
        node["default_path"] = absolute(node["default_path"], base)
    if node.get("kind") == "path" and "path" in node:
        node["path"] = absolute(node["path"], base)
    extra = node.get("extra")
    if isinstance(extra, dict):
        extra.pop("$schema", None)
        if not extra:
            del node["extra"]
        for env in (extra.get("environment"),
                    (extra.get("task") or {}).get("environment")
                    if isinstance(extra.get("task"), dict) else None):
            if isinstance(env, dict):
                if isinstance(env.get("conda_file"), str):
                    env["conda_file"] = absolute(env["conda_file"], decl_base or base)
                build = env.get("build")
                if isinstance(build, dict) and isinstance(build.get("path"), str):
                    build["path"] = absolute(build["path"], decl_base or base)
        if isinstance(extra.get("additional_includes"), list):
            extra["additional_includes"] = [
                absolute(p, decl_base or base) if isinstance(p, str) else p
                for p in extra["additional_includes"]]
    for v in node.values():
        norm_paths(v, base, decl_base)


def strip_added(orig, new):
    """Drops from `new` the kept keys the emitter adds because Azure ML
    requires them, where `orig` has none at the same place."""
    if isinstance(orig, dict) and isinstance(new, dict):
        if "extra" in new:
            o_extra = orig.get("extra", {}) if isinstance(orig.get("extra"), dict) else {}
            n_extra = new["extra"]
            for key in list(n_extra):
                if key not in o_extra and (key,) in ADDED_EXTRA:
                    del n_extra[key]
            if isinstance(n_extra.get("task"), dict) and isinstance(o_extra.get("task"), dict):
                for key in list(n_extra["task"]):
                    if key not in o_extra["task"] and ("task", key) in ADDED_EXTRA:
                        del n_extra["task"][key]
            if not n_extra and "extra" not in orig:
                del new["extra"]
        for k in new:
            if k in orig and k != "extra":
                strip_added(orig[k], new[k])
    elif isinstance(orig, list) and isinstance(new, list):
        for o, n in zip(orig, new):
            strip_added(o, n)


def drop_component_env(node):
    """See 'env'."""
    if isinstance(node, list):
        for x in node:
            drop_component_env(x)
    elif isinstance(node, dict):
        if "kind" in node and "job_type" in node and "steps" not in node and "command" in node:
            node.pop("environment_variables", None)
        for v in node.values():
            drop_component_env(v)


def component_id(c):
    """As the dump names a component a step uses (Component::displayId)."""
    if not c["name"]:
        return "<inline>"
    return c["name"] + ("@" + c["version"] if c["version"] else "")


def inline_named(ir, by_reference):
    """The original's IR as the inline layout writes it (see 'inline');
    `by_reference`: the ids of the components the emitted file still names
    (registry references)."""
    named = {component_id(c): c for c in ir.get("components", [])}

    def walk(comp):
        for s in comp.get("steps", []):
            ref = s["component"]
            if not isinstance(ref, str):
                walk(ref)
            elif ref in named and ref not in by_reference:
                c = copy.deepcopy(named[ref])
                walk(c)
                if c["kind"] != "pipeline":
                    c["job_type"] = s["job_type"]
                    c["resources"] = s["resources"]
                    if "parallel" in s:
                        c["parallel"] = s["parallel"]
                s["component"] = c
    walk(ir["root"])
    ir["components"] = [named[cid] for cid in sorted(named) if cid in by_reference]
    return ir


def load_ir(pipec, path, extra):
    r = run([pipec, "compile", "--emit=ir", "--locations"] + extra + [path])
    if r.returncode != 0:
        return None, r.stderr
    return json.loads(r.stdout), ""


def dump(x):
    return json.dumps(x, indent=1, sort_keys=True).splitlines()


def round_trip(pipec, src, flags, tmp, layout):
    """Returns a problem description, or None."""
    orig, err = load_ir(pipec, src, flags)
    if orig is None:
        return f"--emit=ir of the original failed: {err.strip()[-400:]}"
    out = os.path.join(tmp, layout)
    target = out + "/" if layout == "dir" else out + ".yml"
    r = run([pipec, "compile", "--target", "azureml"] + flags +
            [src, "-o", target])
    if r.returncode != 0:
        return f"compile --target azureml failed (exit {r.returncode}):\n{r.stderr.strip()[-800:]}"
    emitted = os.path.join(out, "pipeline.yml") if layout == "dir" else target
    # The emitted file sits in a scratch folder outside the project and
    # points back into it: the project root is '/'.
    again = ["--root", "/"] + [f for i, f in enumerate(flags)
                               if f != "--root" and (i == 0 or flags[i - 1] != "--root")]
    r = run([pipec, "check"] + again + [emitted])
    if r.returncode != 0:
        return f"the emitted YAML does not check clean:\n{r.stderr.strip()[-1500:]}"
    new, err = load_ir(pipec, emitted, again)
    if new is None:
        return f"--emit=ir of the emitted YAML failed: {err.strip()[-400:]}"
    if layout == "inline":
        orig = inline_named(orig, {component_id(c) for c in new.get("components", [])})
    if orig["root"].get("kind") == "pipeline":
        drop_component_env(orig)
        drop_component_env(new)
    norm_paths(orig, os.path.dirname(os.path.abspath(src)))
    norm_paths(new, os.path.dirname(os.path.abspath(emitted)))
    strip_added(orig, new)
    if orig != new:
        diff = "\n".join(list(difflib.unified_diff(dump(orig), dump(new), "original",
                                                   "emitted", lineterm="", n=2))[:80])
        return f"the IR differs:\n{diff}"
    return None


def main():
    pipec, src_root, corpus = sys.argv[1], sys.argv[2], sys.argv[3]
    only = [os.path.abspath(f) for f in sys.argv[4:]]
    cases = [(f, []) for f in only]
    if not only:
        examples = os.path.join(src_root, "examples")
        for dirpath, dirnames, files in os.walk(examples):
            dirnames[:] = sorted(d for d in dirnames if d not in ("src", "data"))
            for name in sorted(files):
                if name.endswith((".yaml", ".yml", ".pipe")):
                    cases.append((os.path.join(dirpath, name), []))
        root = os.path.join(corpus, "azureml")
        if os.path.isdir(root):
            for rel in corpus_check.pipeline_files(root):
                cases.append((os.path.join(root, rel),
                              ["--root", root, "--component-path",
                               os.path.join(root, "azureml-assets")]))
        else:
            print(f"corpus not found at {root}: skipped, only the examples are "
                  "checked (the corpus lives in ../shared/corpus)")
    checked, skipped, failures = 0, 0, []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (src, flags) in enumerate(cases):
            if run([pipec, "check"] + flags + [src]).returncode != 0:
                if only:
                    failures.append((src, "-", "does not check clean"))
                skipped += 1
                continue
            checked += 1
            for layout in ("dir", "inline"):
                work = os.path.join(tmp, str(i))
                os.makedirs(work, exist_ok=True)
                problem = round_trip(pipec, src, flags, work, layout)
                if problem:
                    failures.append((src, layout, problem))
    print(f"{len(cases)} files: {checked} check clean and were written as "
          f"Azure ML YAML in 2 layouts, {skipped} do not check clean "
          f"(not written); {len(failures)} round trips failed")
    for src, layout, problem in failures:
        print(f"FAIL [{layout}] {os.path.relpath(src, src_root) if src.startswith(src_root) else src}")
        print("  " + problem.replace("\n", "\n  "))
    if checked == 0:
        print("FAIL: no file was checked")
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
