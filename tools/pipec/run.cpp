// `pipec run`: compiles a pipeline (or a lone component), plans the run,
// lays out the run directory and runs every step on this machine.
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <thread>

#include "frontend/suggest.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "runtime/file_system.h"
#include "runtime/journal.h"
#include "runtime/local_runner.h"
#include "runtime/parallel/elastic_master.h"
#include "runtime/plan.h"
#include "runtime/process.h"
#include "runtime/scheduler.h"
#include "runtime/status.h"
#include "tools/pipec/commands.h"
#include "tools/pipec/common.h"

namespace pipec::driver {

namespace {

namespace diag = ir::diag;

std::string absolutePath(llvm::StringRef p) {
  llvm::SmallString<256> abs(p);
  llvm::sys::fs::make_absolute(abs);
  llvm::sys::path::remove_dots(abs, true);
  return std::string(abs);
}

std::string newRunId() {
  std::time_t t = std::time(nullptr);
  std::tm tm;
  ::localtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  auto ns = std::chrono::steady_clock::now().time_since_epoch().count();
  unsigned salt =
      unsigned((std::uint64_t(ns) ^ std::uint64_t(::getpid())) & 0xffff);
  char id[48];
  std::snprintf(id, sizeof id, "%s-%04x", stamp, salt);
  return id;
}

std::string thisExecutable() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, std::size_t(n)) : "pipec";
}

// What `--resume RUN_DIR` needs to rebuild the same plan.
struct RunRecord {
  std::string file, entry, root;
  std::vector<std::string> sets, inputs, component_paths;
  std::string python;
};

llvm::json::Value toJson(const RunRecord& r) {
  auto arr = [](const std::vector<std::string>& v) {
    llvm::json::Array a;
    for (const std::string& s : v) a.push_back(s);
    return a;
  };
  return llvm::json::Object{
      {"file", r.file},         {"entry", r.entry},
      {"root", r.root},         {"set", arr(r.sets)},
      {"input", arr(r.inputs)}, {"component_path", arr(r.component_paths)},
      {"python", r.python}};
}

llvm::Expected<RunRecord> readRecord(const std::string& path) {
  auto buf = llvm::MemoryBuffer::getFile(path);
  if (!buf)
    return llvm::createStringError(buf.getError(), "cannot read '%s': %s",
                                   path.c_str(),
                                   buf.getError().message().c_str());
  auto v = llvm::json::parse((*buf)->getBuffer());
  if (!v) return v.takeError();
  const llvm::json::Object* o = v->getAsObject();
  if (!o || !o->getString("file"))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "'%s' is not a run record", path.c_str());
  RunRecord r;
  auto str = [&](const char* k, std::string& out) {
    if (auto s = o->getString(k)) out = s->str();
  };
  auto list = [&](const char* k, std::vector<std::string>& out) {
    if (const llvm::json::Array* a = o->getArray(k))
      for (const auto& x : *a)
        if (auto s = x.getAsString()) out.push_back(s->str());
  };
  str("file", r.file);
  str("entry", r.entry);
  str("root", r.root);
  str("python", r.python);
  list("set", r.sets);
  list("input", r.inputs);
  list("component_path", r.component_paths);
  return r;
}

void printPlan(llvm::raw_ostream& os, const runtime::RunPlan& plan,
               const runtime::ConsoleStatus& status, bool verbose) {
  os << "dry run: " << plan.steps.size() << " step(s) in "
     << status.display(plan.run_dir) << "\n";
  for (const runtime::StepPlan& s : plan.steps) {
    os << "step " << s.name;
    if (!s.location.empty()) os << " (" << s.location << ")";
    os << "\n  after:";
    if (s.deps.empty()) os << " -";
    for (std::size_t d : s.deps) os << " " << plan.steps[d].name;
    os << "\n  processes:";
    if (s.parallel) {
      os << " main (parallel step engine)";
    } else {
      for (const runtime::ProcessSlot& p :
           runtime::processSlots(s.job_type, s.resources))
        os << " " << p.name;
    }
    os << "\n  " << (s.argv.empty() ? "sh -c" : "exec") << ": " << s.command
       << "\n";
    if (s.parallel)
      os << "  spec: " << status.display(s.parallel_spec_path) << "\n";
    if (!s.venv_dir.empty())
      os << "  requirements: " << status.display(s.venv_dir) << "\n";
    if (s.code_is_url) os << "  code: git clone " << s.code << "\n";
    os << "  dir: " << status.display(s.dir) << "\n";
    if (verbose)
      for (const auto& [k, v] : s.env) os << "  env: " << k << "=" << v << "\n";
  }
}

const char* signalName(int sig) {
  switch (sig) {
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
    case SIGHUP:
      return "SIGHUP";
  }
  return "a signal";
}

}  // namespace

int runRun(const Args& args) {
  ArgParser p("run", "pipec run [options] PIPELINE_OR_COMPONENT",
              "run a pipeline, or a component as a one-step pipeline, on this "
              "machine");
  FrontendFlags flags;
  flags.addTo(p);
  std::vector<std::string> sets, inputs, files;
  std::string workdir, jobs_text, python, follow, resume, run_id, entry, gpus,
      grace_text = "5";
  bool quiet = false, verbose = false, keep_going = false, dry_run = false,
       strict = false;
  p.list("--input", "NAME=PATH", "bind a pipeline data input; repeatable",
         &inputs);
  p.list(
      "--set", "NAME=VALUE",
      "set a pipeline parameter, or STEP.NAME=VALUE for one step; repeatable",
      &sets);
  p.value("--workdir", "DIR",
          "keep runs in DIR/runs/ (default: $PIPEC_WORKDIR, else .pipec)",
          &workdir);
  p.value("--jobs", "N", "run up to N steps at once (default: the cores)",
          &jobs_text);
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
          &grace_text);
  p.value("--entry", "NAME", "the component or pipeline of a .pipe file to run",
          &entry);
  p.value("--gpus", "LIST",
          "the GPUs steps see: all, none, or indices or UUIDs such as 0,1 "
          "(sets NVIDIA_VISIBLE_DEVICES and CUDA_VISIBLE_DEVICES; default: "
          "both pass through)",
          &gpus);
  p.positional("PIPELINE_OR_COMPONENT", "a pipeline or component file", &files,
               0, 1);
  std::string error;
  if (!p.parse(args, error, llvm::outs())) return usageError(p, error);
  if (p.helpRequested()) return kExitOk;
  if (std::string e = flags.validate(); !e.empty()) return usageError(p, e);
  unsigned jobs = std::max(1u, std::thread::hardware_concurrency());
  if (!jobs_text.empty() &&
      (llvm::StringRef(jobs_text).getAsInteger(10, jobs) || jobs == 0))
    return usageError(p, "--jobs needs a whole number of at least 1, not '" +
                             jobs_text + "'");
  double grace_s = 0;
  if (llvm::StringRef(grace_text).getAsDouble(grace_s) || grace_s < 0)
    return usageError(
        p, "--grace needs a number of seconds, not '" + grace_text + "'");
  if (quiet && verbose)
    return usageError(p, "--quiet and --verbose do not go together");
  if (!gpus.empty())
    if (std::string e = runtime::checkGpuList(gpus); !e.empty())
      return usageError(p, e);
  if (files.empty() && resume.empty())
    return usageError(p, "missing PIPELINE_OR_COMPONENT");
  if (!resume.empty() && !run_id.empty())
    return usageError(p, "--run-id and --resume do not go together");
  if (!run_id.empty() && (run_id.find('/') != std::string::npos ||
                          run_id == "." || run_id == ".."))
    return usageError(p, "--run-id must be a plain folder name");

  // A resumed run reads what it was started with.
  std::string run_dir;
  RunRecord record;
  bool resuming = !resume.empty();
  if (resuming) {
    run_dir = absolutePath(resume);
    auto r = readRecord(run_dir + "/run.json");
    if (!r) {
      Frontend fe(flags);
      fe.diags()
          .report(llvm::SMRange(), diag::RunResumeFailed, resume,
                  llvm::toString(r.takeError()))
          .origin("--resume");
      return kExitErrors;
    }
    record = *r;
    if (files.empty()) {
      files.push_back(record.file);
      if (sets.empty()) sets = record.sets;
      if (inputs.empty()) inputs = record.inputs;
      if (entry.empty()) entry = record.entry;
      if (flags.component_paths.empty())
        flags.component_paths = record.component_paths;
      if (flags.root.empty()) flags.root = record.root;
    }
    if (python.empty()) python = record.python;
    run_id = llvm::sys::path::filename(run_dir).str();
  }

  Frontend fe(flags);
  // The run directory could not be made or written: report, exit 1.
  auto workdirFailed = [&](const std::string& why, const char* origin) {
    fe.diags()
        .report(llvm::SMRange(), diag::RunWorkdirFailed, why)
        .origin(origin);
    return kExitErrors;
  };
  auto module = fe.compile(files[0], entry);
  if (!module || fe.diags().hasErrors()) return kExitErrors;
  ir::FlattenOptions fo;
  if (!parseOverrides(*module->root, sets, inputs, fo, fe.diags()))
    return kExitErrors;
  ir::FlatPipeline flat = ir::flatten(*module->root, fo);

  runtime::PlanOptions po;
  po.root_inputs = fo.root_inputs;
  po.pipec_exe = thisExecutable();
  // Another engine binary, for developing the engine and testing failures.
  if (const char* engine = std::getenv("PIPEC_PARALLEL_ENGINE"))
    po.parallel_engine = engine;
  if (python.empty())
    if (const char* env = std::getenv("PIPEC_PYTHON")) python = env;
  if (!python.empty()) {
    const char* path = std::getenv("PATH");
    std::string found =
        runtime::findExecutable(python, path ? path : "", absolutePath("."));
    if (found.empty()) {
      fe.diags()
          .report(llvm::SMRange(), diag::RunPythonNotFound, python)
          .origin("--python");
      return kExitErrors;
    }
    po.python = found;
    po.python_explicit = true;
  }

  if (!resuming) {
    if (workdir.empty())
      if (const char* env = std::getenv("PIPEC_WORKDIR")) workdir = env;
    if (workdir.empty()) workdir = ".pipec";
    std::string runs = absolutePath(workdir) + "/runs";
    bool chosen = !run_id.empty();
    if (!chosen) run_id = newRunId();
    run_dir = runs + "/" + run_id;
    while (!chosen && llvm::sys::fs::exists(run_dir)) {
      run_id = newRunId();
      run_dir = runs + "/" + run_id;
    }
    if (chosen && llvm::sys::fs::exists(run_dir))
      return workdirFailed("'" + run_dir +
                               "' already exists; pick another --run-id, or "
                               "continue it with --resume",
                           "--run-id");
  }
  po.run_id = run_id;
  po.run_dir = run_dir;

  runtime::RealFileSystem fs;
  auto plan = runtime::buildPlan(*module->root, flat, po, fs, fe.diags());
  if (!plan) return kExitErrors;
  std::optional<std::size_t> follow_step;
  if (!follow.empty()) {
    std::vector<std::string> names;
    for (std::size_t i = 0; i < plan->steps.size(); ++i) {
      names.push_back(plan->steps[i].name);
      if (names.back() == follow) follow_step = i;
    }
    if (!follow_step) {
      fe.diags()
          .report(llvm::SMRange(), diag::UnknownJob, follow,
                  frontend::didYouMean(follow, names))
          .origin("--follow");
      return kExitErrors;
    }
  }

  // The run directory: created, recorded for --resume, with the
  // interpreter links.
  if (llvm::Error e = fs.makeDirs(run_dir)) {
    return workdirFailed(llvm::toString(std::move(e)), "--workdir");
  }
  if (!resuming) {
    record.file = absolutePath(files[0]);
    record.entry = entry;
    record.root = flags.root.empty() ? "" : absolutePath(flags.root);
    record.sets = sets;
    for (const auto& [name, path] : fo.root_inputs)
      record.inputs.push_back(name + "=" + path);
    for (const std::string& c : flags.component_paths)
      record.component_paths.push_back(absolutePath(c));
    record.python = po.python_explicit ? po.python : "";
    llvm::Error e =
        fs.writeFile(run_dir + "/run.json",
                     llvm::formatv("{0:2}", toJson(record)).str() + "\n");
    std::string latest =
        llvm::sys::path::parent_path(run_dir).str() + "/latest";
    if (!e) e = fs.removeTree(latest);
    if (!e) e = fs.symlink(run_id, latest);
    if (e) {
      return workdirFailed(llvm::toString(std::move(e)), "--workdir");
    }
  }
  if (!plan->bin_dir.empty()) {
    llvm::Error e = fs.makeDir(plan->bin_dir);
    for (const char* name : {"python", "python3"}) {
      std::string link = plan->bin_dir + "/" + name;
      if (!e) e = fs.removeTree(link);
      if (!e) e = fs.symlink(plan->python, link);
    }
    if (e) {
      return workdirFailed(llvm::toString(std::move(e)), "--python");
    }
  }

  runtime::Verbosity verbosity = quiet     ? runtime::Verbosity::Quiet
                                 : verbose ? runtime::Verbosity::Verbose
                                           : runtime::Verbosity::Normal;
  bool terminal = ::isatty(STDOUT_FILENO) && std::getenv("TERM") &&
                  llvm::StringRef(std::getenv("TERM")) != "dumb";
  runtime::ConsoleStatus status(llvm::outs(), *plan, verbosity, terminal);

  if (dry_run) {
    for (const runtime::StepPlan& s : plan->steps)
      if (llvm::Error e = runtime::layoutStep(*plan, s, fs)) {
        fe.diags().report(s.range, diag::RunStepNotStarted, s.name,
                          llvm::toString(std::move(e)));
        return kExitErrors;
      }
    printPlan(llvm::outs(), *plan, status, verbose);
    return kExitOk;
  }

  runtime::Journal journal;
  if (llvm::Error e =
          journal.open(run_dir + "/journal", runtime::monotonicMs())) {
    return workdirFailed(llvm::toString(std::move(e)), "--workdir");
  }
  std::vector<std::vector<std::size_t>> deps;
  for (const runtime::StepPlan& s : plan->steps) deps.push_back(s.deps);
  runtime::Scheduler scheduler(std::move(deps), jobs);
  if (resuming) {
    // A step counts as finished when the journal has it with the same
    // definition and everything it read from counts as finished too.
    std::vector<bool> resumed(plan->steps.size(), false);
    for (std::size_t i = 0; i < plan->steps.size(); ++i) {
      const runtime::StepPlan& s = plan->steps[i];
      bool ok = journal.finished(s.name, s.hash);
      for (std::size_t d : s.deps) ok = ok && resumed[d];
      resumed[i] = ok;
      if (ok) {
        scheduler.markResumed(i);
        status.countDone(1);
      }
    }
    for (runtime::StepPlan& s : plan->steps)
      if (s.parallel) s.parallel->resume = true;
  }

  unsigned grace_ms = unsigned(grace_s * 1000);
  runtime::Guardian guardian;
  if (llvm::Error e = guardian.start(grace_ms)) {
    return workdirFailed(
        "cannot start the process guardian: " + llvm::toString(std::move(e)),
        "pipec run");
  }
  runtime::ProcessSet procs(&guardian);
  runtime::RunnerOptions ro;
  // pipec is the AIMaster of elasticbatch steps (RUNTIME.md, "Job types").
  runtime::parallel::ShardService shard_service;
  ro.elastic_master = &shard_service;
  ro.grace_ms = grace_ms;
  ro.strict = strict;
  ro.follow = follow;
  ro.clear_step_dirs = resuming;
  ro.gpus = gpus;
  runtime::LocalRunner runner(*plan, fs, procs, &journal, fe.diags(), status,
                              ro);
  auto t0 = std::chrono::steady_clock::now();
  bool ok = scheduler.run(runner);
  // A run that stopped short is the one that gets resumed: make its journal
  // durable. After a clean run a lost line only reruns a step.
  if (!ok) journal.sync();
  double total =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();

  std::vector<runtime::StepStatus> statuses;
  std::vector<std::string> blockers;
  std::size_t stopped = 0;
  for (std::size_t i = 0; i < plan->steps.size(); ++i) {
    statuses.push_back(scheduler.status(i));
    auto b = scheduler.blocker(i);
    blockers.push_back(b ? plan->steps[*b].name : "");
    if (statuses.back() == runtime::StepStatus::Interrupted) ++stopped;
  }
  if (int sig = runner.interruptSignal()) {
    status.beforeDiagnostic();
    fe.diags()
        .report(llvm::SMRange(), diag::RunInterrupted, signalName(sig), stopped,
                status.display(run_dir))
        .origin("pipec run");
    status.summary(statuses, runner.reports(), blockers, total);
    return 128 + sig;
  }
  status.summary(statuses, runner.reports(), blockers, total);
  return ok ? kExitOk : kExitErrors;
}

}  // namespace pipec::driver
