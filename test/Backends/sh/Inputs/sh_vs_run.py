"""Runs a pipeline with `pipec run` and with the script of `pipec compile
--target sh` (under dash and under bash --posix) into the same run folder
path, and compares what each run left: every file and folder under
<step>/ml/output/, <step>/ml/input/config/ and <step>/ml/artifacts/, each
step's logs/job_result.txt, the links under <step>/ml/input/data/, and
<step>/ml/usercode/outputs and logs (the step's layout), byte for byte.

usage: sh_vs_run.py PIPEC PYTHON TMPDIR PIPELINE [--expect-exit N]
                    [--mask-ports] [ARGS...]
ARGS (--set, --input) go to both `pipec run` and `pipec compile`.
--mask-ports: loopback addresses with a port (127.0.2.1:37911) are compared
without the port, which each run picks anew."""
import os
import re
import shutil
import subprocess
import sys


MASK = None


def compared_files(run):
    """Relative path -> ("file", bytes) or ("link", target)."""
    out = {}
    for step in sorted(os.listdir(run)):
        base = os.path.join(run, step)
        if not os.path.isdir(os.path.join(base, "ml")):
            continue
        result = os.path.join(base, "logs", "job_result.txt")
        if os.path.exists(result):
            with open(result, "rb") as fh:
                out[os.path.relpath(result, run)] = ("file", fh.read())
        # ./outputs and ./logs of the working folder: links into
        # ml/artifacts, or the code's own folders.
        for name in ("outputs", "logs"):
            p = os.path.join(base, "ml", "usercode", name)
            rel = os.path.relpath(p, run)
            if os.path.islink(p):
                out[rel] = ("link", os.readlink(p))
            elif os.path.isdir(p):
                out[rel] = ("dir", None)
        for sub in ("ml/output", "ml/input/config", "ml/input/data",
                    "ml/artifacts"):
            top = os.path.join(base, sub)
            for d, dirs, files in os.walk(top):
                for name in sorted(dirs + files):
                    p = os.path.join(d, name)
                    rel = os.path.relpath(p, run)
                    if os.path.islink(p):
                        out[rel] = ("link", os.readlink(p))
                    elif os.path.isfile(p) and sub != "ml/input/data":
                        with open(p, "rb") as fh:
                            data = fh.read()
                        if MASK:
                            data = MASK.sub(rb"\1:<port>", data)
                        out[rel] = ("file", data)
                    elif os.path.isdir(p):
                        out[rel] = ("dir", None)
    return out


def main():
    pipec, python, tmp, pipeline = sys.argv[1:5]
    args = sys.argv[5:]
    expect = 0
    if args[:1] == ["--expect-exit"]:
        expect = int(args[1])
        args = args[2:]
    if args[:1] == ["--mask-ports"]:
        global MASK
        MASK = re.compile(rb"(127\.[0-9]+\.[0-9]+\.[0-9]+):[0-9]+")
        args = args[1:]
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    work = os.path.join(tmp, "w")
    run_dir = os.path.join(work, "runs", "x")
    rc = subprocess.run([pipec, "run", "-q", "--python", python, "--workdir",
                         work, "--run-id", "x", pipeline] + args).returncode
    if rc != expect:
        sys.exit("pipec run exited %d, not %d" % (rc, expect))
    want = compared_files(run_dir)
    os.rename(work, os.path.join(tmp, "pipec-run"))
    script = os.path.join(tmp, "run.sh")
    subprocess.run([pipec, "compile", "--target", "sh", pipeline, "-o",
                    script] + args, check=True)
    bad = 0
    for shell in (["dash"], ["bash", "--posix"]):
        rc = subprocess.run(shell + [script, "--workdir", work, "--run-id",
                                     "x", "--python", python],
                            stdout=subprocess.DEVNULL).returncode
        name = " ".join(shell)
        if rc != expect:
            print("%s: the script exited %d, not %d" % (name, rc, expect))
            bad += 1
        got = compared_files(run_dir)
        for rel in sorted(set(want) | set(got)):
            if rel not in got:
                print("%s: missing %s" % (name, rel))
                bad += 1
            elif rel not in want:
                print("%s: extra %s" % (name, rel))
                bad += 1
            elif want[rel] != got[rel]:
                print("%s: %s differs" % (name, rel))
                bad += 1
        os.rename(work, os.path.join(tmp, shell[0]))
    files = sum(1 for k in want.values() if k[0] == "file")
    links = sum(1 for k in want.values() if k[0] == "link")
    print("%s: %d files and %d links compared under dash and bash --posix, "
          "%d differences" % (os.path.basename(pipeline), files, links, bad))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
