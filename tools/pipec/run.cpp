// `pipec run`: parses the options, compiles the pipeline (or a lone
// component) and hands it to runtime::Run, which runs it on this machine.
#include <unistd.h>

#include <thread>

#include "backends/graph/graph.h"
#include "ir/suggest.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "runtime/file_system.h"
#include "runtime/local_runner.h"
#include "runtime/parallel/elastic_master.h"
#include "runtime/run.h"
#include "tools/pipec/commands.h"
#include "tools/pipec/common.h"

namespace pipec::driver {

namespace {

namespace diag = ir::diag;

std::string absolutePath(llvm::StringRef p) {
  if (p.empty()) return "";
  llvm::SmallString<256> abs(p);
  llvm::sys::fs::make_absolute(abs);
  llvm::sys::path::remove_dots(abs, true);
  return std::string(abs);
}

std::string thisExecutable() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, std::size_t(n)) : "pipec";
}

std::string envOr(const char* name, std::string fallback = "") {
  const char* v = std::getenv(name);
  return v ? v : fallback;
}

// The options of `pipec run` besides the front end's.
struct RunFlags {
  runtime::RunArgs args;  // as given: FILE, --set, --input, --entry
  std::vector<std::string> files;
  std::string workdir, jobs, python, follow, resume, run_id, gpus, grace = "5";
  std::vector<std::string> rerun, cache_only;
  bool quiet = false, verbose = false, keep_going = false, dry_run = false,
       strict = false, no_cache = false;

  void addTo(ArgParser& p);
  /// Checks the values into `out`; returns a usage error or "".
  std::string validate(runtime::RunOptions& out) const;
};

void RunFlags::addTo(ArgParser& p) {
  p.list("--input", "[STEP.]NAME=PATH",
         "bind a pipeline data input, or one step's; repeatable", &args.inputs);
  p.list(
      "--set", "NAME=VALUE",
      "set a pipeline parameter, or STEP.NAME=VALUE for one step; repeatable",
      &args.sets);
  p.value("--workdir", "DIR",
          "keep runs in DIR/runs/ (default: $PIPEC_WORKDIR, else .pipec)",
          &workdir);
  p.value("--jobs", "N", "run up to N steps at once (default: the cores)",
          &jobs);
  p.alias("-j", "--jobs");
  p.value("--python", "PATH",
          "the interpreter behind python/python3 in steps, virtual "
          "environments and parallel steps (default: $PIPEC_PYTHON, else "
          "python3)",
          &python);
  p.flag("--quiet", "print only problems", &quiet);
  p.alias("-q", "--quiet");
  p.flag("--verbose", "also print each step's command as it starts", &verbose);
  p.alias("-v", "--verbose");
  p.value("--follow", "STEP", "stream the output of STEP as it runs", &follow);
  p.flag("--keep-going",
         "after a failure, finish the independent steps (always on)",
         &keep_going);
  p.value("--resume", "RUN_DIR",
          "continue RUN_DIR: steps that finished there are not run again",
          &resume);
  p.value("--run-id", "ID", "name the run folder ID (default: date-time-salt)",
          &run_id);
  p.flag("--strict",
         "a parallel step that passes with a warning (no mini-batch "
         "succeeded) fails",
         &strict);
  p.flag("--dry-run",
         "lay out the run directory and print the plan; start nothing",
         &dry_run);
  p.value("--grace", "SECONDS",
          "between SIGTERM and SIGKILL when steps are stopped (default: 5)",
          &grace);
  p.value("--entry", "NAME", "the component or pipeline of a .pipe file to run",
          &args.entry);
  p.value("--gpus", "LIST",
          "the GPUs steps see: all, none, or indices or UUIDs such as 0,1 "
          "(sets NVIDIA_VISIBLE_DEVICES and CUDA_VISIBLE_DEVICES; default: "
          "both pass through)",
          &gpus);
  p.flag("--no-cache",
         "run every step; neither use nor fill the step cache (WORKDIR/cache)",
         &no_cache);
  p.list("--rerun", "STEP",
         "run STEP and everything downstream of it even when cached, "
         "replacing their cache entries; repeatable, or STEP,STEP",
         &rerun);
  p.list("--cache-only", "STEP",
         "only STEP may come from the cache, every other step runs; "
         "repeatable, or STEP,STEP",
         &cache_only);
  p.positional("PIPELINE_OR_COMPONENT", "a pipeline or component file", &files,
               0, 1);
}

std::string RunFlags::validate(runtime::RunOptions& o) const {
  o.jobs = std::max(1u, std::thread::hardware_concurrency());
  if (!jobs.empty() &&
      (llvm::StringRef(jobs).getAsInteger(10, o.jobs) || o.jobs == 0))
    return "--jobs needs a whole number of at least 1, not '" + jobs + "'";
  auto grace_ms = runtime::parseGraceSeconds(grace);
  if (!grace_ms)
    return "--grace needs a number of seconds from 0 to 86400, not '" + grace +
           "'";
  o.grace_ms = *grace_ms;
  if (quiet && verbose) return "--quiet and --verbose do not go together";
  if (!gpus.empty())
    if (std::string e = runtime::checkGpuList(gpus); !e.empty()) return e;
  if (files.empty() && resume.empty()) return "missing PIPELINE_OR_COMPONENT";
  if (!resume.empty() && !run_id.empty())
    return "--run-id and --resume do not go together";
  if (!run_id.empty())
    if (std::string e = runtime::checkRunId(run_id); !e.empty()) return e;
  o.resume_dir = absolutePath(resume);
  o.workdir = absolutePath(!workdir.empty() ? workdir
                                            : envOr("PIPEC_WORKDIR", ".pipec"));
  o.run_id = run_id;
  o.follow = follow;
  o.gpus = gpus;
  o.dry_run = dry_run;
  o.strict = strict;
  o.no_cache = no_cache;
  for (const auto* from : {&rerun, &cache_only}) {
    auto& to = from == &rerun ? o.rerun : o.cache_only;
    for (const std::string& list : *from) {
      llvm::SmallVector<llvm::StringRef, 4> names;
      llvm::StringRef(list).split(names, ',', -1, false);
      for (llvm::StringRef n : names) to.push_back(n.trim().str());
    }
  }
  if (no_cache && (!rerun.empty() || !cache_only.empty()))
    return "--no-cache runs every step: --rerun and --cache-only do not go "
           "with it";
  o.verbosity = quiet     ? runtime::Verbosity::Quiet
                : verbose ? runtime::Verbosity::Verbose
                          : runtime::Verbosity::Normal;
  const char* term = std::getenv("TERM");
  o.terminal =
      ::isatty(STDOUT_FILENO) && term && llvm::StringRef(term) != "dumb";
  o.python = python;
  o.path = envOr("PATH");
  o.cwd = absolutePath(".");
  o.pipec_exe = thisExecutable();
  // Another engine binary, for developing the engine and testing failures.
  o.parallel_engine = envOr("PIPEC_PARALLEL_ENGINE");
  return "";
}

// `step` (given with `option`) names a step of `flat`; otherwise reports it.
bool checkStepName(const std::string& step, const char* option,
                   const ir::FlatPipeline& flat, ir::DiagnosticEngine& diags) {
  std::vector<std::string> names;
  for (const ir::FlatStep& s : flat.steps) {
    if (s.name == step) return true;
    names.push_back(s.name);
  }
  diags
      .report(llvm::SMRange(), diag::UnknownJob, step,
              ir::didYouMean(step, names))
      .origin(option);
  return false;
}

}  // namespace

int runRun(const Args& argv) {
  ArgParser p("run", "pipec run [options] PIPELINE_OR_COMPONENT",
              "run a pipeline, or a component as a one-step pipeline, on this "
              "machine");
  FrontendFlags flags;
  flags.addTo(p);
  RunFlags rf;
  rf.addTo(p);
  std::string error;
  if (!p.parse(argv, error, llvm::outs())) return usageError(p, error);
  if (p.helpRequested()) return kExitOk;
  if (std::string e = flags.validate(); !e.empty()) return usageError(p, e);
  runtime::RunOptions opts;
  if (std::string e = rf.validate(opts); !e.empty()) return usageError(p, e);

  runtime::RunArgs args = rf.args;
  if (!rf.files.empty()) args.file = absolutePath(rf.files[0]);
  args.root = absolutePath(flags.root);
  for (const std::string& c : flags.component_paths)
    args.component_paths.push_back(absolutePath(c));
  if (opts.python.empty()) opts.python = envOr("PIPEC_PYTHON");
  runtime::RealFileSystem fs;
  if (!opts.resume_dir.empty()) {
    // A resumed run reads what it was last run with.
    auto recorded = runtime::readRunArgs(opts.resume_dir, fs);
    if (!recorded) {
      Frontend fe(flags);
      fe.diags()
          .report(llvm::SMRange(), diag::RunResumeFailed, rf.resume,
                  llvm::toString(recorded.takeError()))
          .origin("--resume");
      return kExitErrors;
    }
    args = runtime::resumedArgs(*recorded, args);
    flags.root = args.root;
    flags.component_paths = args.component_paths;
    if (rf.python.empty() && !args.python.empty()) opts.python = args.python;
  }

  // pipec is the AIMaster of elasticbatch steps (RUNTIME.md, "Job types").
  runtime::parallel::ShardService shard_service;
  opts.elastic_master = &shard_service;
  Frontend fe(flags);
  // The run's graph with each step's status: graph.svg, or graph.dot
  // without Graphviz.
  const ir::Component* drawn = nullptr;
  opts.on_done = [&drawn](const std::string& dir,
                          const std::map<std::string, std::string>& status) {
    if (!drawn) return;
    backends::graph::GraphOptions go;
    go.status = status;
    std::string dot =
        backends::graph::render(*drawn, backends::graph::Format::Dot, go);
    auto svg = renderSvg(dot);
    std::string path = dir + (svg ? "/graph.svg" : "/graph.dot");
    if (!svg) llvm::consumeError(svg.takeError());
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_None);
    if (!ec) os << (svg ? *svg : dot);
    if (os.has_error()) os.clear_error();  // a picture is not worth a failure
  };
  runtime::Run run(opts, fs, fe.diags(), llvm::outs());
  if (!run.open()) return kExitErrors;
  auto module = fe.compile(args.file, args.entry);
  if (!module || fe.diags().hasErrors()) return kExitErrors;
  ir::FlattenOptions fo;
  if (!parseOverrides(*module->root, args.sets, args.inputs, fo, fe.diags()))
    return kExitErrors;
  ir::FlatPipeline flat = ir::flatten(*module->root, fo);
  bool named = opts.follow.empty() ||
               checkStepName(opts.follow, "--follow", flat, fe.diags());
  for (const std::string& s : opts.rerun)
    named = checkStepName(s, "--rerun", flat, fe.diags()) && named;
  for (const std::string& s : opts.cache_only)
    named = checkStepName(s, "--cache-only", flat, fe.diags()) && named;
  if (!named) return kExitErrors;
  drawn = module->root;
  // --input NAME=PATH and STEP.NAME=PATH, as run.json keeps them.
  std::map<std::string, std::string> inputs = fo.root_inputs;
  for (const auto& [step, bound] : fo.step_inputs)
    for (const auto& [name, path] : bound) inputs[step + "." + name] = path;
  return run.run(*module->root, flat, inputs, std::move(args));
}

}  // namespace pipec::driver
