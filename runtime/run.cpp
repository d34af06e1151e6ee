// Run orchestration: the run directory and its lock, run.json, the `latest`
// link, the guardian, the journal, the scheduler and the runner.
#include "runtime/run.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <ctime>

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "runtime/fetch.h"
#include "runtime/journal.h"
#include "runtime/local_runner.h"
#include "runtime/plan.h"
#include "runtime/process.h"
#include "runtime/scheduler.h"

namespace pipec::runtime {

using ir::DiagKind;

namespace {

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

llvm::Error sysError(const std::string& what, int err) {
  return llvm::createStringError(std::error_code(err, std::generic_category()),
                                 "%s: %s", what.c_str(), std::strerror(err));
}

}  // namespace

// --- run.json
// -----------------------------------------------------------------

llvm::Expected<RunArgs> readRunArgs(llvm::StringRef run_dir, FileSystem& fs) {
  std::string path = run_dir.str() + "/run.json";
  auto text = fs.readFile(path);
  if (!text) return text.takeError();
  auto v = llvm::json::parse(*text);
  if (!v) return v.takeError();
  const llvm::json::Object* o = v->getAsObject();
  if (!o || !o->getString("file"))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "'%s' is not a run record", path.c_str());
  RunArgs r;
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

std::string runArgsJson(const RunArgs& r) {
  auto arr = [](const std::vector<std::string>& v) {
    llvm::json::Array a;
    for (const std::string& s : v) a.push_back(s);
    return a;
  };
  llvm::json::Value v = llvm::json::Object{
      {"file", r.file},         {"entry", r.entry},
      {"root", r.root},         {"set", arr(r.sets)},
      {"input", arr(r.inputs)}, {"component_path", arr(r.component_paths)},
      {"python", r.python}};
  return llvm::formatv("{0:2}", v).str() + "\n";
}

RunArgs resumedArgs(const RunArgs& recorded, const RunArgs& given) {
  RunArgs out = given;
  if (out.python.empty()) out.python = recorded.python;
  if (!given.file.empty()) return out;
  out.file = recorded.file;
  if (given.sets.empty()) out.sets = recorded.sets;
  if (given.inputs.empty()) out.inputs = recorded.inputs;
  if (given.entry.empty()) out.entry = recorded.entry;
  if (given.component_paths.empty())
    out.component_paths = recorded.component_paths;
  if (given.root.empty()) out.root = recorded.root;
  return out;
}

// --- option values -----------------------------------------------------------

std::string checkRunId(llvm::StringRef id) {
  if (id.empty()) return "--run-id must not be empty";
  if (id == "latest")
    return "--run-id cannot be 'latest': runs/latest links the last run";
  if (id == "." || id == ".." || id.contains('/'))
    return "--run-id must be a plain folder name, without '/'";
  if (id.size() > 255) return "--run-id must be at most 255 bytes long";
  if (id.front() == '-') return "--run-id must not start with '-'";
  for (char c : id)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      return "--run-id must not hold control characters (such as a newline)";
  if (!llvm::json::isUTF8(id)) return "--run-id must be UTF-8 text";
  return "";
}

std::optional<unsigned> parseGraceSeconds(llvm::StringRef text) {
  double s = 0;
  if (llvm::StringRef(text).trim().getAsDouble(s) || !std::isfinite(s) ||
      s < 0 || s > kMaxGraceSeconds)
    return std::nullopt;
  return unsigned(std::llround(s * 1000));
}

// --- the lock
// -------------------------------------------------------------------

/// RUN_DIR/lock: an fcntl lock held by this process alone (F_GETLK names its
/// holder) and a flock on the same open file, shared with the guardian.
class Run::Lock {
 public:
  ~Lock() { release(); }

  /// Takes both locks. `holder` is set, and the result is false, when a
  /// live process holds the run; an error when the file cannot be used.
  llvm::Expected<bool> acquire(const std::string& dir, std::string& holder) {
    path_ = dir + "/lock";
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) return sysError("cannot open '" + path_ + "'", errno);
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (::fcntl(fd_, F_SETLK, &fl) != 0) {
      if (errno != EAGAIN && errno != EACCES)
        return sysError("cannot lock '" + path_ + "'", errno);
      struct flock who {};
      who.l_type = F_WRLCK;
      who.l_whence = SEEK_SET;
      if (::fcntl(fd_, F_GETLK, &who) == 0 && who.l_type != F_UNLCK)
        holder = "pipec (pid " + std::to_string(who.l_pid) + ")";
      else
        holder = "another pipec";
      return false;
    }
    // No live pipec holds it; a guardian may still be stopping what a killed
    // one left. It ends after its grace period: wait for it, a while.
    for (int waited = 0; ::flock(fd_, LOCK_EX | LOCK_NB) != 0; waited += 50) {
      if (errno != EWOULDBLOCK)
        return sysError("cannot lock '" + path_ + "'", errno);
      if (waited >= kGuardianWaitMs) {
        holder = "the guardian of a pipec that ended (" + readHolders() +
                 "), still stopping what it left";
        return false;
      }
      sleepMs(50);
    }
    writeHolders(::getpid(), 0);
    return true;
  }

  /// Records who holds the run, for the messages of others.
  void writeHolders(pid_t pipec, pid_t guardian) {
    std::string text = "pipec " + std::to_string(pipec) + "\n";
    if (guardian > 0) text += "guardian " + std::to_string(guardian) + "\n";
    if (::ftruncate(fd_, 0) == 0)
      (void)!::pwrite(fd_, text.data(), text.size(), 0);
  }

  int fd() const { return fd_; }

  void release() {
    if (fd_ < 0) return;
    ::flock(fd_, LOCK_UN);  // the guardian's share too
    ::close(fd_);
    fd_ = -1;
  }

  static constexpr int kGuardianWaitMs = 10000;

 private:
  std::string readHolders() const {
    char buf[128];
    ssize_t n = ::pread(fd_, buf, sizeof buf - 1, 0);
    std::string text(buf, n > 0 ? std::size_t(n) : 0);
    auto pos = text.find("guardian ");
    if (pos == std::string::npos) return "pid unknown";
    llvm::StringRef pid = llvm::StringRef(text).drop_front(pos + 9);
    return "pid " + pid.take_while(llvm::isDigit).str();
  }

  std::string path_;
  int fd_ = -1;
};

// --- the run
// ----------------------------------------------------------------------

/// What lives while steps run.
struct Run::Session {
  Journal journal;
  std::unique_ptr<Scheduler> scheduler;
  std::unique_ptr<ConsoleStatus> status;
};

Run::Run(RunOptions options, FileSystem& fs, ir::DiagnosticEngine& diags,
         llvm::raw_ostream& out)
    : opts_(std::move(options)), fs_(fs), diags_(diags), out_(out) {}

Run::~Run() = default;

void Run::failed(DiagKind kind, const std::string& why, const char* origin) {
  if (kind == DiagKind::RunDirUnwritable)
    diags_.report(llvm::SMRange(), ir::diag::RunDirUnwritable, dir_, why)
        .origin(origin);
  else
    diags_.report(llvm::SMRange(), ir::diag::RunWorkdirFailed, why)
        .origin(origin);
}

bool Run::lock(const char* origin) {
  lock_ = std::make_unique<Lock>();
  std::string holder;
  auto got = lock_->acquire(dir_, holder);
  if (!got) {
    failed(DiagKind::RunDirUnwritable, llvm::toString(got.takeError()), origin);
    return false;
  }
  if (!*got) {
    diags_.report(llvm::SMRange(), ir::diag::RunLocked, dir_, holder)
        .origin(origin);
    return false;
  }
  return true;
}

bool Run::open() {
  resuming_ = !opts_.resume_dir.empty();
  if (resuming_) {
    dir_ = opts_.resume_dir;
    id_ = llvm::sys::path::filename(dir_).str();
    if (!lock("--resume")) return false;
    // RUN_DIR is WORKDIR/runs/ID.
    cache_dir_ =
        llvm::sys::path::parent_path(llvm::sys::path::parent_path(dir_)).str() +
        "/cache";
  } else {
    std::string runs = opts_.workdir + "/runs";
    cache_dir_ = opts_.workdir + "/cache";
    bool chosen = !opts_.run_id.empty();
    id_ = chosen ? opts_.run_id : newRunId();
    dir_ = runs + "/" + id_;
    while (!chosen && fs_.exists(dir_)) {
      id_ = newRunId();
      dir_ = runs + "/" + id_;
    }
    if (chosen && fs_.exists(dir_)) {
      failed(DiagKind::RunWorkdirFailed,
             "'" + dir_ +
                 "' already exists; pick another --run-id, or continue it "
                 "with --resume",
             "--run-id");
      return false;
    }
  }
  if (!opts_.python.empty()) {
    python_ = findExecutable(opts_.python, opts_.path, opts_.cwd);
    if (python_.empty()) {
      diags_.report(llvm::SMRange(), ir::diag::RunPythonNotFound, opts_.python)
          .origin("--python");
      return false;
    }
  }
  return true;
}

bool Run::prepareDirectory(const RunPlan& plan, RunArgs args) {
  // Everything below writes into the run directory: a failure names it,
  // whichever option the path came from.
  const char* origin = resuming_ ? "--resume" : "--workdir";
  if (!resuming_) {
    if (llvm::Error e = fs_.makeDirs(dir_)) {
      failed(DiagKind::RunWorkdirFailed, llvm::toString(std::move(e)),
             "--workdir");
      return false;
    }
    if (!lock("--run-id")) return false;
  }
  // What the user last ran with is what a plain --resume runs again.
  args.python = python_;
  llvm::Error e = fs_.replaceFile(dir_ + "/run.json", runArgsJson(args));
  if (!e && !resuming_) {
    std::string latest = llvm::sys::path::parent_path(dir_).str() + "/latest";
    e = fs_.removeTree(latest);
    if (!e) e = fs_.symlink(id_, latest);
  }
  if (!e && !plan.bin_dir.empty()) {
    e = fs_.makeDir(plan.bin_dir);
    for (const char* name : {"python", "python3"}) {
      std::string link = plan.bin_dir + "/" + name;
      if (!e) e = fs_.removeTree(link);
      if (!e) e = fs_.symlink(plan.python, link);
    }
  }
  if (e) {
    failed(DiagKind::RunDirUnwritable, llvm::toString(std::move(e)), origin);
    return false;
  }
  return true;
}

int Run::run(const ir::Component& root, const ir::FlatPipeline& flat,
             const std::map<std::string, std::string>& root_inputs,
             RunArgs args) {
  PlanOptions po;
  po.root_inputs = root_inputs;
  po.pipec_exe = opts_.pipec_exe;
  // The GPUs steps see are in every key: --gpus, else what passes through.
  po.gpus = opts_.gpus;
  if (po.gpus.empty())
    for (const char* name : {"NVIDIA_VISIBLE_DEVICES", "CUDA_VISIBLE_DEVICES"})
      if (const char* v = std::getenv(name))
        po.gpus += std::string(name) + "=" + v + "\n";
  po.parallel_engine = opts_.parallel_engine;
  if (!python_.empty()) {
    po.python = python_;
    po.python_explicit = true;
  }
  po.run_id = id_;
  po.run_dir = dir_;
  // Keys hash contents; the records of earlier runs spare reading files
  // that did not change.
  StepCache cache(cache_dir_);
  ContentHasher content;
  cache.loadRecords(content);
  po.content = &content;
  // Inputs bound to http(s) URLs are fetched first: the plan and the keys
  // see local files.
  const ir::FlatPipeline* planned = &flat;
  ir::FlatPipeline fetched;
  bool fetch = false;
  for (const ir::FlatStep& s : flat.steps)
    for (const ir::Port& p : s.component->inputs)
      if (auto it = s.inputs.find(p.name);
          it != s.inputs.end() && isFetchedInput(p, it->second))
        fetch = true;
  if (fetch) {
    fetched = flat;
    if (!fetchInputs(fetched, dir_, diags_)) return 1;
    planned = &fetched;
  }
  auto plan = buildPlan(root, *planned, po, fs_, diags_);
  if (!plan) return 1;
  if (opts_.verbosity == Verbosity::Verbose)
    out_ << "cache keys: " << content.stats() << " stat call(s), "
         << content.reads() << " file(s) read (" << content.bytesRead()
         << " bytes)\n";
  if (opts_.no_cache) {
    // Neither used nor filled.
  } else if (llvm::Error e = cache.saveRecords(content))
    diags_
        .report(llvm::SMRange(), ir::diag::CacheUnwritable, cache_dir_,
                llvm::toString(std::move(e)))
        .origin("pipec run");
  args.inputs.clear();
  for (const auto& [name, path] : root_inputs)
    args.inputs.push_back(name + "=" + path);
  if (!prepareDirectory(*plan, std::move(args))) return 1;
  if (opts_.dry_run) {
    for (const StepPlan& s : plan->steps)
      if (llvm::Error e = layoutStep(*plan, s, fs_)) {
        diags_.report(s.range, ir::diag::RunStepNotStarted, s.name,
                      llvm::toString(std::move(e)));
        return 1;
      }
    ConsoleStatus status(out_, *plan, opts_.verbosity, false);
    status.printPlan(opts_.verbosity == Verbosity::Verbose);
    return 0;
  }
  return execute(*plan);
}

std::vector<bool> Run::forcedSteps(const RunPlan& plan) const {
  std::vector<bool> forced(plan.steps.size(), false);
  for (std::size_t i = 0; i < plan.steps.size(); ++i) {
    const StepPlan& s = plan.steps[i];
    forced[i] = llvm::is_contained(opts_.rerun, s.name);
    for (std::size_t d : s.deps) forced[i] = forced[i] || forced[d];
  }
  return forced;
}

void Run::markResumed(const RunPlan& plan, const std::vector<bool>& forced,
                      Session& session) {
  // A step counts as finished when the journal has it with the same key
  // and everything it read from counts as finished too.
  std::vector<bool> resumed(plan.steps.size(), false);
  for (std::size_t i = 0; i < plan.steps.size(); ++i) {
    const StepPlan& s = plan.steps[i];
    bool ok = !forced[i] && session.journal.finished(s.name, s.key);
    for (std::size_t d : s.deps) ok = ok && resumed[d];
    resumed[i] = ok;
    if (ok) {
      session.scheduler->markResumed(i);
      session.status->countDone(1);
    }
  }
}

int Run::execute(RunPlan& plan) {
  Session session;
  if (llvm::Error e = session.journal.open(dir_ + "/journal", monotonicMs())) {
    failed(DiagKind::RunDirUnwritable, llvm::toString(std::move(e)),
           resuming_ ? "--resume" : "--workdir");
    return 1;
  }
  std::vector<std::vector<std::size_t>> deps;
  for (const StepPlan& s : plan.steps) deps.push_back(s.deps);
  session.scheduler = std::make_unique<Scheduler>(std::move(deps), opts_.jobs);
  session.status = std::make_unique<ConsoleStatus>(out_, plan, opts_.verbosity,
                                                   opts_.terminal);
  std::vector<bool> forced = forcedSteps(plan);
  if (resuming_) {
    markResumed(plan, forced, session);
    for (StepPlan& s : plan.steps)
      if (s.parallel) s.parallel->resume = true;
  }
  // The guardian stops, after a kill -9 of pipec, the groups it registered
  // and what carries a step's mark (below this run directory); it holds the
  // lock until it is done.
  Guardian guardian;
  std::string mark = std::string(kStepMarkVariable) + "=" + dir_ + "/";
  if (llvm::Error e = guardian.start(opts_.grace_ms, mark, lock_->fd())) {
    failed(DiagKind::RunWorkdirFailed,
           "cannot start the process guardian: " + llvm::toString(std::move(e)),
           "pipec run");
    return 1;
  }
  lock_->writeHolders(::getpid(), guardian.pid());
  bool ok;
  int interrupt;
  std::vector<StepReport> reports;
  auto t0 = std::chrono::steady_clock::now();
  {
    ProcessSet procs(&guardian);
    RunnerOptions ro;
    ro.grace_ms = opts_.grace_ms;
    ro.strict = opts_.strict;
    ro.elastic_master = opts_.elastic_master;
    ro.follow = opts_.follow;
    ro.clear_step_dirs = resuming_;
    ro.gpus = opts_.gpus;
    StepCache cache(cache_dir_);
    if (!opts_.no_cache) {
      ro.cache = &cache;
      for (std::size_t i = 0; i < plan.steps.size(); ++i) {
        const StepPlan& s = plan.steps[i];
        bool allowed = opts_.cache_only.empty() ||
                       llvm::is_contained(opts_.cache_only, s.name);
        ro.restore.push_back(s.cache && !forced[i] && allowed);
        ro.store.push_back(s.cache);
        ro.replace.push_back(forced[i]);
        // A parallel step that runs reuses the results of its unchanged
        // mini-batches (not with --rerun or outside --cache-only), and
        // stores its own.
        if (StepPlan& p = plan.steps[i]; p.parallel && p.cache) {
          p.parallel->batch_cache_dir = cache_dir_;
          p.parallel->batch_cache_key = p.batch_key.hex();
          p.parallel->batch_cache_use = !forced[i] && allowed;
          p.parallel->batch_cache_store = true;
        }
      }
    }
    LocalRunner runner(plan, fs_, procs, &session.journal, diags_,
                       *session.status, ro);
    ok = session.scheduler->run(runner);
    interrupt = runner.interruptSignal();
    reports = runner.reports();
  }
  // Every process of the run is stopped (the ProcessSet is gone).
  guardian.dismiss();
  // A run that stopped short is the one that gets resumed: make its journal
  // durable. After a clean run a lost line only reruns a step.
  if (!ok) session.journal.sync();
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  if (interrupt) {
    std::size_t stopped = 0;
    for (std::size_t i = 0; i < plan.steps.size(); ++i)
      stopped += session.scheduler->status(i) == StepStatus::Interrupted;
    session.status->beforeDiagnostic();
    diags_
        .report(llvm::SMRange(), ir::diag::RunInterrupted,
                signalName(interrupt), stopped, session.status->display(dir_))
        .origin("pipec run");
  }
  if (opts_.on_done) {
    std::map<std::string, std::string> status;
    for (std::size_t i = 0; i < plan.steps.size(); ++i)
      status[plan.steps[i].name] = stepStatusName(session.scheduler->status(i));
    opts_.on_done(dir_, status);
  }
  session.status->summary(*session.scheduler, reports, seconds);
  if (interrupt) return 128 + interrupt;
  return ok ? 0 : 1;
}

}  // namespace pipec::runtime
