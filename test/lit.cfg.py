# lit configuration shared by every suite under test/.
import os
import lit.formats
import lit.util

config.name = "pipec"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".test", ".yaml", ".yml", ".pipe"]
config.excludes = ["Inputs", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)

site = lit_config.params.get("pipec_site_config")
if site:
    lit_config.load_config(config, site)
else:
    lit_config.fatal("pass --param pipec_site_config=BUILD/test/lit.site.cfg.py")

config.test_exec_root = os.path.join(config.pipec_build_dir, "test-output")
tools = config.llvm_tools_dir
config.substitutions.append(("%pipec", config.pipec_bin))
config.substitutions.append(("%python", config.python))
config.substitutions.append(("%corpus", config.corpus_dir))
config.substitutions.append(("%srcroot", config.pipec_src_dir))
config.substitutions.append(("%FileCheck", os.path.join(tools, "FileCheck")))
config.substitutions.append(("%not", os.path.join(tools, "not")))
config.substitutions.append(
    ("%lsp-replay", config.python + " " +
     os.path.join(config.test_source_root, "utils", "lsp-replay")))
config.substitutions.append(
    ("%expect-exit", os.path.join(config.test_source_root, "utils", "expect-exit")))
config.environment["PATH"] = os.pathsep.join(
    [tools, os.path.dirname(config.pipec_bin), config.environment.get("PATH", "")])
# Diagnostics print file names as given; keep colors off.
config.environment["TERM"] = "dumb"
if os.path.isdir(config.corpus_dir):
    config.available_features.add("corpus")

# Tests that take minutes run only with --param slow=1 (ctest -C slow -L slow).
if lit_config.params.get("slow"):
    config.available_features.add("slow")
# `pipec run` (the local scheduler) is optional in a build: tests that run
# pipelines say `REQUIRES: pipec-run`.
import subprocess
try:
    if subprocess.run([config.pipec_bin, "run", "--help"], stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL, timeout=30).returncode == 0:
        config.available_features.add("pipec-run")
except (OSError, subprocess.SubprocessError):
    pass
# Tests that need a read-only file system make one in a mount namespace of
# their own (`unshare -rm`); where that is not allowed they are UNSUPPORTED.
import shutil
import tempfile
try:
    probe = tempfile.mkdtemp()
    if subprocess.run(["unshare", "-rm", "sh", "-c",
                       'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0"',
                       probe], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                      timeout=30).returncode == 0:
        config.available_features.add("read-only-mount")
    shutil.rmtree(probe, ignore_errors=True)
except (OSError, subprocess.SubprocessError):
    pass
# Real editor clients (test/Editors): Neovim, and Node with the client
# libraries installed into the build tree (test/Editors/node).
if shutil.which("nvim"):
    config.available_features.add("nvim")
node_modules = os.path.join(config.pipec_build_dir, "test", "node", "node_modules")
config.substitutions.append(("%node_modules", node_modules))
if shutil.which("node") and os.path.isdir(
        os.path.join(node_modules, "vscode-languageserver-protocol")):
    config.available_features.add("node-lsp")
if os.path.isfile(os.path.join(node_modules, "vscode-tmgrammar-test", "package.json")):
    config.available_features.add("tmgrammar")
