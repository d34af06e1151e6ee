// LocalRunner: the phases of a step (code, virtual environment, processes)
// driven from one wait loop.
#include "runtime/local_runner.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstring>

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"

extern char** environ;

namespace pipec::runtime {

using ir::DiagKind;

ElasticBatchMaster::~ElasticBatchMaster() = default;

bool ElasticBatchMaster::restartWorker(const StepPlan&, const std::string&,
                                       int) {
  return false;
}

llvm::Error ElasticBatchMaster::finished(const StepPlan&) {
  return llvm::Error::success();
}

struct LocalRunner::Proc {
  pid_t pid = -1;
  std::string name;
  std::string log;
  bool decides = true;
  bool running = false;
  bool stopped = false;  // we sent it SIGTERM
  int status = 0;
  off_t follow_offset = 0;
  // Elasticbatch workers: how to start the process again, and how often
  // it was.
  std::string exe;
  std::vector<std::string> argv, env;
  int restarts = 0;
};

struct LocalRunner::Active {
  std::size_t step = 0;
  Phase phase = Phase::Main;
  std::vector<Proc> procs;
  std::uint64_t start_ms = 0;
  std::string venv;
  bool stopping = false;
  bool killed = false;
  std::uint64_t kill_at = 0;
  bool failed = false;
  bool interrupted = false;
  bool master_started = false;
  bool cached = false;
  bool warned = false;  // passed with a warning: not stored in the cache
  std::string detail, log;
  LogTail log_tail;
};

namespace {

std::uint64_t nowMs() { return monotonicMs(); }

std::string describe(int status) {
  if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    const char* name = sigabbrev_np(sig);
    return "killed by " +
           (name ? "SIG" + std::string(name) : "signal " + std::to_string(sig));
  }
  return "status " + std::to_string(status);
}

bool succeeded(int status) {
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// The last bytes of a file.
std::string tail(const std::string& path, std::size_t max) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  off_t size = ::lseek(fd, 0, SEEK_END);
  off_t from = size > off_t(max) ? size - off_t(max) : 0;
  std::string out(std::size_t(size - from), '\0');
  ssize_t n = ::pread(fd, out.data(), out.size(), from);
  ::close(fd);
  out.resize(n > 0 ? std::size_t(n) : 0);
  return out;
}

// The name in a shell's "not found" message ("sh: 1: trian: not found",
// "bash: trian: command not found"), or empty.
std::string notFoundName(const std::string& log) {
  std::string text = tail(log, 4096);
  llvm::SmallVector<llvm::StringRef, 16> lines;
  llvm::StringRef(text).split(lines, '\n', -1, false);
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
    llvm::StringRef l = it->rtrim();
    if (!l.consume_back(": command not found") &&
        !l.consume_back(": not found"))
      continue;
    auto pos = l.rfind(": ");
    return (pos == llvm::StringRef::npos ? l : l.drop_front(pos + 2)).str();
  }
  return "";
}

}  // namespace

std::string checkGpuList(llvm::StringRef gpus) {
  if (gpus == "all" || gpus == "none") return "";
  llvm::SmallVector<llvm::StringRef, 8> items;
  gpus.split(items, ',');
  llvm::StringSet<> seen;
  for (llvm::StringRef g : items) {
    bool index = !g.empty() && llvm::all_of(g, llvm::isDigit);
    bool uuid = (g.startswith("GPU-") || g.startswith("MIG-")) &&
                g.size() > 4 && llvm::all_of(g.drop_front(4), [](char c) {
                  return llvm::isAlnum(c) || c == '-' || c == '/';
                });
    if (!index && !uuid)
      return "--gpus needs all, none, or GPU indices or UUIDs separated by "
             "commas (0,1 or GPU-...), not '" +
             gpus.str() + "'";
    if (!seen.insert(g).second)
      return "--gpus names GPU '" + g.str() + "' twice";
  }
  return "";
}

LocalRunner::LocalRunner(const RunPlan& plan, FileSystem& fs, ProcessSet& procs,
                         Journal* journal, ir::DiagnosticEngine& diags,
                         RunObserver& observer, RunnerOptions options)
    : plan_(plan),
      fs_(fs),
      procs_(procs),
      journal_(journal),
      diags_(diags),
      observer_(observer),
      opts_(std::move(options)),
      reports_(plan.steps.size()),
      started_(plan.steps.size(), false) {
  if (!opts_.ports) {
    own_ports_ = std::make_unique<LoopbackPortPicker>();
    opts_.ports = own_ports_.get();
  }
  for (char** e = environ; e && *e; ++e) {
    auto [k, v] = llvm::StringRef(*e).split('=');
    base_env_[k.str()] = v.str();
  }
  if (!opts_.gpus.empty()) {
    base_env_["NVIDIA_VISIBLE_DEVICES"] = opts_.gpus;
    if (opts_.gpus == "all")
      base_env_.erase("CUDA_VISIBLE_DEVICES");
    else
      base_env_["CUDA_VISIBLE_DEVICES"] =
          opts_.gpus == "none" ? "-1" : opts_.gpus;
  }
  for (const auto& [k, v] : base_env_) base_entries_.push_back(k + "=" + v);
  marks_.reserve(plan.steps.size());
  for (const StepPlan& s : plan.steps) marks_.push_back(stepEnvironmentMark(s));
}

std::string stepEnvironmentMark(const StepPlan& s) {
  for (const auto& [k, v] : s.env)
    if (k == kStepMarkVariable) return k + "=" + v;
  return "";
}

LocalRunner::~LocalRunner() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_worker_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

std::vector<std::string> LocalRunner::environment(
    const StepPlan& s, const std::string& venv,
    const ir::EnvList& extra) const {
  // What the step sets over pipec's own environment, in order: a later
  // setting of a name wins.
  auto base_path = base_env_.find("PATH");
  std::string path = base_path == base_env_.end() || base_path->second.empty()
                         ? "/usr/local/bin:/usr/bin:/bin"
                         : base_path->second;
  if (!plan_.bin_dir.empty()) path = plan_.bin_dir + ":" + path;
  if (!venv.empty()) path = venv + "/bin:" + path;
  llvm::SmallVector<std::pair<llvm::StringRef, llvm::StringRef>, 32> over;
  over.push_back({"PATH", path});
  if (!venv.empty()) over.push_back({"VIRTUAL_ENV", venv});
  over.push_back({"PWD", s.work_dir});
  for (const auto& [k, v] : s.env) over.push_back({k, v});
  for (const auto& [k, v] : extra) over.push_back({k, v});
  if (!opts_.follow.empty() && opts_.follow == s.name)
    over.push_back({"PYTHONUNBUFFERED", "1"});
  std::stable_sort(over.begin(), over.end(), [](const auto& a, const auto& b) {
    return a.first < b.first;
  });
  // Merged with the sorted "NAME=VALUE" entries of pipec's environment
  // (made once), without building a map per process.
  std::vector<std::string> out;
  out.reserve(base_entries_.size() + over.size());
  auto b = base_entries_.begin(), b_end = base_entries_.end();
  for (std::size_t i = 0; i < over.size(); ++i) {
    llvm::StringRef name = over[i].first;
    if (i + 1 < over.size() && over[i + 1].first == name) continue;
    for (; b != b_end; ++b) {
      llvm::StringRef base_name = llvm::StringRef(*b).split('=').first;
      if (base_name >= name) {
        if (base_name == name) ++b;
        break;
      }
      out.push_back(*b);
    }
    out.push_back((name + "=" + over[i].second).str());
  }
  out.insert(out.end(), b, b_end);
  return out;
}

template <typename Kind, typename... Args>
static ir::DiagBuilder reportAt(ir::DiagnosticEngine& diags, RunObserver& obs,
                                const StepPlan& s, const Kind& kind,
                                Args&&... args) {
  obs.beforeDiagnostic();
  return diags.report(s.range, kind, std::forward<Args>(args)...);
}

// The failures that name the step, what went wrong and its log.
static const ir::DiagDef<ir::diag::Text, ir::diag::Text, ir::diag::Text>&
stepFailure(DiagKind kind) {
  switch (kind) {
    case DiagKind::RunCommandNotFound:
      return ir::diag::RunCommandNotFound;
    case DiagKind::RunRequirementsFailed:
      return ir::diag::RunRequirementsFailed;
    case DiagKind::RunParallelEngine:
      return ir::diag::RunParallelEngine;
    default:
      return ir::diag::RunStepFailed;
  }
}

// The end of the log under the diagnostic, one note a line.
static void addTail(ir::DiagBuilder& d, const std::string& log,
                    const LogTail& tail) {
  if (tail.lines.empty()) return;
  d.note(
      llvm::SMRange(), "{} ends with{}:", log,
      tail.more ? fmt::format(" (the last {} lines)", tail.lines.size()) : "");
  for (const std::string& l : tail.lines) d.note(llvm::SMRange(), "| {}", l);
}

void LocalRunner::fail(Active& a, DiagKind kind, std::string detail,
                       std::string log) {
  if (a.failed || a.interrupted) return;
  const StepPlan& s = plan_.steps[a.step];
  a.failed = true;
  // What went wrong is usually at the end of the failing process's log.
  if (!log.empty() && log.back() != '/') a.log_tail = readLogTail(log);
  switch (kind) {
    case DiagKind::RunStepNotStarted:
      reportAt(diags_, observer_, s, ir::diag::RunStepNotStarted, s.name,
               detail);
      break;
    case DiagKind::RunCodeUnavailable: {
      auto d =
          reportAt(diags_, observer_, s, ir::diag::RunCodeUnavailable, s.name,
                   s.code, detail + (log.empty() ? "" : ", log: " + log));
      addTail(d, log, a.log_tail);
      break;
    }
    default: {
      auto d = reportAt(diags_, observer_, s, stepFailure(kind), s.name, detail,
                        log);
      addTail(d, log, a.log_tail);
      break;
    }
  }
  if (kind == DiagKind::RunCommandNotFound) detail = "exit 127";
  a.detail = std::move(detail);
  a.log = std::move(log);
}

LocalRunner::Prepared LocalRunner::setUp(std::size_t step) const {
  const StepPlan& s = plan_.steps[step];
  Prepared out;
  llvm::Error err = llvm::Error::success();
  if (opts_.clear_step_dirs) {
    if (s.parallel) {
      err = fs_.removeTree(s.ml_root);
      if (!err) err = fs_.removeTree(s.parallel_spec_path);
    } else {
      err = fs_.removeTree(s.dir);
    }
  }
  if (!err) err = layoutStep(plan_, s, fs_);
  if (err) out.error = llvm::toString(std::move(err));
  return out;
}

void LocalRunner::prepare(std::size_t step) {
  if (started_[step]) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (!layouts_.emplace(step, Layout{Layout::State::Queued, {}}).second) return;
  queue_.push_back(step);
  if (!worker_.joinable()) worker_ = std::thread([this] { layoutWorker(); });
  cv_.notify_all();
}

void LocalRunner::layoutWorker() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_worker_ || !queue_.empty(); });
    if (stop_worker_) return;
    std::size_t step = queue_.front();
    queue_.pop_front();
    auto it = layouts_.find(step);
    if (it == layouts_.end() || it->second.state != Layout::State::Queued)
      continue;  // started meanwhile
    it->second.state = Layout::State::Busy;
    lock.unlock();
    Prepared prepared = setUp(step);
    lock.lock();
    layouts_[step] = Layout{Layout::State::Done, std::move(prepared)};
    cv_.notify_all();
  }
}

LocalRunner::Prepared LocalRunner::takeLayout(std::size_t step) {
  {
    std::unique_lock<std::mutex> lock(mu_);
    auto it = layouts_.find(step);
    if (it != layouts_.end() && it->second.state != Layout::State::Queued) {
      cv_.wait(lock,
               [&] { return layouts_[step].state == Layout::State::Done; });
      Prepared prepared = std::move(layouts_[step].prepared);
      layouts_.erase(step);
      return prepared;
    }
    if (it != layouts_.end()) layouts_.erase(it);
  }
  return setUp(step);
}

void LocalRunner::start(std::size_t step) {
  started_[step] = true;
  auto owned = std::make_unique<Active>();
  Active& a = *owned;
  a.step = step;
  a.start_ms = nowMs();
  active_[step] = std::move(owned);
  observer_.stepStarted(step);
  Prepared prepared = takeLayout(step);
  if (prepared.error) {
    fail(a, DiagKind::RunStepNotStarted, std::move(*prepared.error), "");
    complete(a);
    return;
  }
  if (restoreFromCache(a)) {
    complete(a);
    return;
  }
  beginCode(a);
}

bool LocalRunner::restoreFromCache(Active& a) {
  const StepPlan& s = plan_.steps[a.step];
  if (!opts_.cache || !opts_.restore[a.step]) return false;
  std::string dropped;
  auto hit = opts_.cache->restore(s, s.key, dropped);
  if (!dropped.empty())
    reportAt(diags_, observer_, s, ir::diag::CacheEntryUnused, s.name,
             "dropped: " + dropped);
  if (hit && *hit) {
    a.cached = true;
    a.detail = "from run " + (*hit)->run;
    return true;
  }
  if (hit) return false;
  reportAt(diags_, observer_, s, ir::diag::CacheEntryUnused, s.name,
           llvm::toString(hit.takeError()));
  // What was restored goes; the step starts from a fresh folder.
  llvm::Error e = fs_.removeTree(s.ml_root + "/output");
  if (!e) e = layoutStep(plan_, s, fs_);
  if (e) {
    fail(a, DiagKind::RunStepNotStarted, llvm::toString(std::move(e)), "");
    return true;
  }
  return false;
}

bool LocalRunner::spawnInto(Active& a, Proc p, const std::string& exe,
                            std::vector<std::string> argv,
                            std::vector<std::string> env) {
  const StepPlan& s = plan_.steps[a.step];
  SpawnRequest r{exe, std::move(argv), std::move(env), s.work_dir, p.log};
  auto pid = procs_.spawn(r);
  if (!pid) {
    fail(a, DiagKind::RunStepNotStarted, llvm::toString(pid.takeError()), "");
    return false;
  }
  p.pid = *pid;
  p.running = true;
  pid_step_[*pid] = a.step;
  a.procs.push_back(std::move(p));
  return true;
}

void LocalRunner::beginCode(Active& a) {
  const StepPlan& s = plan_.steps[a.step];
  if (!s.code_is_url) {
    beginVenv(a);
    return;
  }
  a.phase = Phase::Clone;
  std::vector<std::string> env =
      environment(s, "", {{"GIT_TERMINAL_PROMPT", "0"}});
  std::string exe = findExecutable("git", base_env_["PATH"], "/");
  if (exe.empty()) {
    fail(a, DiagKind::RunCodeUnavailable, "git is not installed", "");
    complete(a);
    return;
  }
  Proc p;
  p.name = "git";
  p.log = s.logs_dir + "/git.log";
  if (!spawnInto(a, p, exe,
                 {"git", "clone", "--quiet", "--depth", "1", "--",
                  gitCloneUrl(s.code), s.work_dir},
                 env))
    complete(a);
}

void LocalRunner::beginVenv(Active& a) {
  const StepPlan& s = plan_.steps[a.step];
  if (a.venv.empty()) a.venv = s.venv_dir;
  if (a.venv.empty()) {
    beginMain(a);
    return;
  }
  auto it = venvs_.find(a.venv);
  if (it == venvs_.end() && fs_.exists(a.venv + "/.pipec-ready"))
    it = venvs_.emplace(a.venv, Venv{Venv::State::Ready, "", "", {}}).first;
  if (it != venvs_.end()) {
    switch (it->second.state) {
      case Venv::State::Ready:
        beginMain(a);
        return;
      case Venv::State::Building:
        a.phase = Phase::WaitVenv;
        it->second.waiting.push_back(a.step);
        return;
      case Venv::State::Failed:
        fail(a, DiagKind::RunRequirementsFailed, it->second.detail,
             it->second.log);
        complete(a);
        return;
    }
  }
  // The first step that needs this environment builds it; pip comes from
  // the interpreter's own site-packages when it has one.
  static const char* kScript =
      "set -e\n"
      "\"$1\" -m venv --without-pip --system-site-packages \"$2\"\n"
      "\"$2/bin/python\" -c 'import pip' 2>/dev/null ||"
      " \"$2/bin/python\" -m ensurepip --default-pip\n"
      "[ ! -f \"$3\" ] ||"
      " \"$2/bin/python\" -m pip install --disable-pip-version-check -r "
      "\"$3\"\n"
      // A conda file's pip list is best effort: pipec does not build the
      // rest of that environment either.
      "rm -f \"$2/.pipec-conda-skipped\"\n"
      "if [ -n \"$4\" ]; then\n"
      "  \"$2/bin/python\" -m pip install --disable-pip-version-check -r \"$4\""
      " || : > \"$2/.pipec-conda-skipped\"\n"
      "fi\n"
      ": > \"$2/.pipec-ready\"\n";
  a.phase = Phase::Venv;
  Proc p;
  p.name = "pip";
  p.log = s.logs_dir + "/pip.log";
  venvs_[a.venv] = Venv{Venv::State::Building, p.log, "", {}};
  if (!spawnInto(a, p, "/bin/sh",
                 {"sh", "-c", kScript, "sh", plan_.python, a.venv,
                  s.work_dir + "/requirements.txt", s.conda_pip_file},
                 environment(s, "", {}))) {
    venvs_[a.venv].state = Venv::State::Failed;
    venvs_[a.venv].detail = a.detail;
    afterVenv(a.venv);
  }
}

void LocalRunner::afterVenv(const std::string& venv) {
  Venv& v = venvs_[venv];
  std::vector<std::size_t> steps = std::move(v.waiting);
  v.waiting.clear();
  for (auto& [step, a] : active_)
    if (a->phase == Phase::Venv && a->venv == venv) steps.push_back(step);
  for (std::size_t step : steps) {
    auto it = active_.find(step);
    if (it == active_.end()) continue;
    Active& a = *it->second;
    if (a.interrupted) {
      complete(a);
    } else if (v.state == Venv::State::Ready) {
      beginMain(a);
    } else {
      fail(a, DiagKind::RunRequirementsFailed, v.detail, v.log);
      complete(a);
    }
  }
}

void LocalRunner::beginMain(Active& a) {
  const StepPlan& s = plan_.steps[a.step];
  a.phase = Phase::Main;
  // Run without its conda file's pip packages (W1801): its result is not
  // what the environment asks for, so it is not stored in the cache.
  if (!s.conda_pip.empty() && !a.venv.empty() &&
      fs_.exists(a.venv + "/.pipec-conda-skipped"))
    a.warned = true;
  std::vector<ProcessSlot> slots;
  ir::EnvList extra;
  if (s.parallel) {
    slots.push_back(ProcessSlot{"main", "", 0, "127.0.0.1", {}, true});
    std::string python = a.venv.empty() ? plan_.python : a.venv + "/bin/python";
    if (python != s.parallel->python) {
      ParallelStepSpec spec = *s.parallel;
      spec.python = python;
      if (llvm::Error e = writeParallelStepSpec(spec, s.parallel_spec_path)) {
        fail(a, DiagKind::RunStepNotStarted, llvm::toString(std::move(e)), "");
        complete(a);
        return;
      }
    }
  } else {
    slots = processSlots(s.job_type, s.resources);
    if (llvm::Error e =
            assignTopologyEnv(s.job_type, s.resources, slots, *opts_.ports)) {
      fail(a, DiagKind::RunStepNotStarted, llvm::toString(std::move(e)), "");
      complete(a);
      return;
    }
    if (s.job_type == ir::JobType::ElasticBatch && opts_.elastic_master) {
      if (llvm::Error e = opts_.elastic_master->start(s, extra)) {
        fail(a, DiagKind::RunStepNotStarted, llvm::toString(std::move(e)), "");
        complete(a);
        return;
      }
      a.master_started = true;
    }
  }
  std::string exe;
  std::vector<std::string> argv = s.argv;
  std::vector<std::string> env0 = environment(s, a.venv, extra);
  if (argv.empty()) {
    exe = "/bin/sh";
    argv = {"sh", "-c", s.command};
  } else {
    llvm::StringRef path;
    for (const std::string& e : env0)
      if (llvm::StringRef(e).startswith("PATH="))
        path = llvm::StringRef(e).drop_front(5);
    // Steps often run the same program: look it up once per PATH.
    bool relative = llvm::StringRef(argv[0]).contains('/');
    std::string key = argv[0] + '\n' + path.str();
    auto hit = relative ? exe_cache_.end() : exe_cache_.find(key);
    if (hit != exe_cache_.end()) {
      exe = hit->second;
    } else {
      exe = findExecutable(argv[0], path, s.work_dir);
      if (!relative && !exe.empty()) exe_cache_[key] = exe;
    }
    if (exe.empty()) {
      std::string log = s.logs_dir + "/" + slots[0].name + ".log";
      llvm::consumeError(
          fs_.writeFile(log, "pipec: " + argv[0] + ": command not found\n"));
      fail(a, DiagKind::RunCommandNotFound, argv[0], log);
      complete(a);
      return;
    }
  }
  for (ProcessSlot& slot : slots) {
    Proc p;
    p.name = slot.name;
    p.log = s.logs_dir + "/" + slot.name + ".log";
    p.decides = slot.decides;
    std::vector<std::string> env;
    if (!slot.env.empty()) {
      ir::EnvList all = extra;
      all.insert(all.end(), slot.env.begin(), slot.env.end());
      env = environment(s, a.venv, all);
    } else if (&slot == &slots.back()) {
      env = std::move(env0);  // the last process that needs it
    } else {
      env = env0;
    }
    if (a.master_started) {
      p.exe = exe;
      p.argv = argv;
      p.env = env;
    }
    if (!spawnInto(a, std::move(p), exe, argv, std::move(env))) {
      stopStep(a, nowMs());
      break;
    }
  }
  maybeComplete(a);
}

void LocalRunner::signalProc(const Proc& p, int sig) {
  procs_.signalGroup(p.pid, sig);
  procs_.signalDescendants(p.pid, sig);
}

void LocalRunner::signalLeftovers(const Active& a, int sig) {
  const std::string& mark = marks_[a.step];
  if (mark.empty()) return;
  procs_.signalAdopted(sig, [&](pid_t, llvm::StringRef env) {
    return environmentHas(env, mark);
  });
}

void LocalRunner::stopStep(Active& a, std::uint64_t now) {
  for (Proc& p : a.procs)
    if (p.running && !p.stopped) {
      signalProc(p, SIGTERM);
      p.stopped = true;
    }
  signalLeftovers(a, SIGTERM);
  if (!a.stopping) {
    a.stopping = true;
    a.kill_at = now + opts_.grace_ms;
  }
}

void LocalRunner::maybeComplete(Active& a) {
  for (const Proc& p : a.procs)
    if (p.running) return;
  complete(a);
}

void LocalRunner::onExit(pid_t pid, int status) {
  auto it = pid_step_.find(pid);
  if (it == pid_step_.end()) return;
  std::size_t step = it->second;
  pid_step_.erase(it);
  procs_.release(pid);
  auto ait = active_.find(step);
  if (ait == active_.end()) return;
  Active& a = *ait->second;
  const StepPlan& s = plan_.steps[step];
  Proc* p = nullptr;
  for (Proc& q : a.procs)
    if (q.pid == pid) p = &q;
  if (!p) return;
  p->running = false;
  p->status = status;
  if (opts_.follow == s.name) pumpFollow(a);
  bool ok = succeeded(status);

  if (a.phase == Phase::Clone) {
    if (a.interrupted) return complete(a);
    if (!ok) {
      fail(a, DiagKind::RunCodeUnavailable, "git clone: " + describe(status),
           p->log);
      return complete(a);
    }
    std::string req = s.work_dir + "/requirements.txt";
    if (fs_.kind(req) == FileSystem::Kind::File) {
      auto text = fs_.readFile(req);
      if (text && !text->empty())
        a.venv = venvDir(plan_, s.conda_pip.empty()
                                    ? *text
                                    : *text + "\n# conda pip\n" + s.conda_pip);
      else
        llvm::consumeError(text.takeError());
    }
    a.procs.clear();
    return beginVenv(a);
  }
  if (a.phase == Phase::Venv) {
    Venv& v = venvs_[a.venv];
    v.state = ok ? Venv::State::Ready : Venv::State::Failed;
    v.detail = describe(status);
    if (ok && fs_.exists(a.venv + "/.pipec-conda-skipped"))
      reportAt(diags_, observer_, s, ir::diag::CondaPipSkipped, s.name,
               "pip failed: no package index reachable, or a package it "
               "cannot install",
               v.log);
    a.procs.clear();
    return afterVenv(a.venv);
  }

  if (!ok && !p->stopped && !a.failed && !a.interrupted && a.master_started &&
      opts_.elastic_master->restartWorker(s, p->name, status)) {
    // The master hands its work to the others; the process starts again.
    Proc again;
    again.name = p->name;
    again.restarts = p->restarts + 1;
    again.log = s.logs_dir + "/" + p->name + ".restart-" +
                std::to_string(again.restarts) + ".log";
    again.decides = p->decides;
    again.exe = p->exe;
    again.argv = p->argv;
    again.env = p->env;
    p->decides = false;  // replaced: its exit no longer decides
    std::string exe = again.exe;
    std::vector<std::string> argv = again.argv, env = again.env;
    if (!spawnInto(a, std::move(again), exe, std::move(argv), std::move(env)))
      stopStep(a, nowMs());
    return maybeComplete(a);
  }
  if (!ok && !p->stopped && !a.failed && !a.interrupted) {
    bool many = a.procs.size() > 1;
    std::string who = many ? p->name + ": " : "";
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (s.parallel && code == 1) {
      fail(a, DiagKind::RunStepFailed, "exit 1",
           s.logs_dir + "/job_result.txt");
    } else if (s.parallel) {
      fail(a, DiagKind::RunParallelEngine, describe(status), p->log);
    } else if (code == 127) {
      std::string name = notFoundName(p->log);
      if (name.empty()) name = s.argv.empty() ? "sh" : s.argv[0];
      fail(a, DiagKind::RunCommandNotFound, name, p->log);
      a.detail = who + a.detail;
    } else {
      fail(a, DiagKind::RunStepFailed, who + describe(status), p->log);
    }
    stopStep(a, nowMs());
  } else if (ok && s.parallel && !a.failed && !a.interrupted) {
    parallelWarnings(a);
  } else if (ok && !a.stopping) {
    // Parameter servers and evaluators serve the deciding processes; once
    // those are done, so are they.
    bool deciders_done = true, others_running = false;
    for (const Proc& q : a.procs) {
      if (q.decides && (q.running || !succeeded(q.status)))
        deciders_done = false;
      if (!q.decides && q.running) others_running = true;
    }
    if (deciders_done && others_running)
      for (Proc& q : a.procs)
        if (q.running && !q.stopped) {
          signalProc(q, SIGTERM);
          q.stopped = true;
          a.kill_at = nowMs() + opts_.grace_ms;
        }
  }
  maybeComplete(a);
}

void LocalRunner::parallelWarnings(Active& a) {
  const StepPlan& s = plan_.steps[a.step];
  std::string result = s.logs_dir + "/job_result.txt";
  auto text = fs_.readFile(result);
  if (!text) return llvm::consumeError(text.takeError());
  llvm::SmallVector<llvm::StringRef, 4> lines;
  llvm::StringRef(*text).split(lines, '\n', -1, false);
  std::string from_cache;
  for (llvm::StringRef line : lines) {
    // What the engine says about the step cache (parallel/README.md).
    if (line.consume_front("from the cache: ")) {
      from_cache = line.str() + " from the cache";
      continue;
    }
    if (line.consume_front("cache dropped: ")) {
      reportAt(diags_, observer_, s, ir::diag::BatchCacheDropped, s.name,
               line.str());
      continue;
    }
    if (line.consume_front("cache not stored: ")) {
      reportAt(diags_, observer_, s, ir::diag::BatchCacheStoreFailed, s.name,
               line.str());
      continue;
    }
    if (!line.consume_front("warning: ")) continue;
    line = line.rsplit(" [").first;  // the engine's code
    unsigned errors = diags_.errorCount();
    reportAt(diags_, observer_, s, ir::diag::RunStepPassedWithWarning, s.name,
             line.str(), result);
    bool werror = diags_.errorCount() > errors;
    std::string brief = line.split(':').first.str();
    if (opts_.strict || werror) {
      fail(a, DiagKind::RunStepFailed,
           brief + (werror ? ", --Werror" : ", --strict"), result);
      return;
    }
    a.detail = "warning: " + brief;
    a.warned = true;
    a.log = result;
  }
  if (!from_cache.empty())
    a.detail = a.detail.empty() ? from_cache : from_cache + "; " + a.detail;
}

void LocalRunner::complete(Active& a) {
  const StepPlan& s = plan_.steps[a.step];
  std::uint64_t now = nowMs();
  if (a.master_started && !a.failed && !a.interrupted)
    if (llvm::Error e = opts_.elastic_master->finished(s))
      fail(a, DiagKind::RunStepFailed, llvm::toString(std::move(e)),
           s.logs_dir + "/");
  StepReport r;
  r.seconds = double(now - a.start_ms) / 1000.0;
  r.status = a.interrupted ? StepStatus::Interrupted
             : a.failed    ? StepStatus::Failed
             : a.cached    ? StepStatus::Cached
                           : StepStatus::Succeeded;
  if (a.master_started)
    opts_.elastic_master->stop(s, r.status == StepStatus::Succeeded);
  r.detail = a.detail;
  r.log_tail = std::move(a.log_tail);
  if (!a.log.empty())
    r.log = a.log;
  else if (a.procs.size() == 1)
    r.log = a.procs[0].log;
  else
    r.log = s.logs_dir + "/";
  if (opts_.follow == s.name) pumpFollow(a);
  if (r.status == StepStatus::Succeeded) {
    for (const lowering::OutputData& out : s.outputs) {
      const std::string& o = out.channel;
      std::string dir = s.ml_root + "/output/" + o;
      if (fs_.isEmptyDir(dir))
        reportAt(diags_, observer_, s, ir::diag::RunEmptyOutput, s.name, o,
                 dir + "/");
    }
    if (opts_.cache && opts_.store[a.step] && !a.warned)
      if (llvm::Error e =
              opts_.cache->store(s, s.key, plan_.run_id, opts_.replace[a.step]))
        reportAt(diags_, observer_, s, ir::diag::CacheStoreFailed, s.name,
                 llvm::toString(std::move(e)));
  }
  if (r.status == StepStatus::Succeeded || r.status == StepStatus::Cached)
    if (journal_) journal_->record(s.name, s.key, now);
  reports_[a.step] = r;
  done_.push_back({a.step, r.status});
  std::size_t step = a.step;
  observer_.stepEnded(step, r);
  active_.erase(step);
  stopOrphans();
}

void LocalRunner::stopOrphans() {
  // What a step left running in a session or group of its own became a
  // child of pipec when its parent went. It is stopped unless it belongs
  // to a step that still runs; what cannot be told apart by its
  // environment is stopped too.
  procs_.signalAdopted(SIGKILL, [&](pid_t, llvm::StringRef env) {
    for (const auto& [step, a] : active_)
      if (!marks_[step].empty() && environmentHas(env, marks_[step]))
        return false;
    return true;
  });
}

void LocalRunner::interruptAll(std::uint64_t now) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.clear();
  }
  std::vector<std::size_t> idle;
  for (auto& [step, a] : active_) {
    a->interrupted = true;
    bool any = false;
    for (const Proc& p : a->procs) any |= p.running;
    if (any)
      stopStep(*a, now);
    else
      idle.push_back(step);
  }
  for (std::size_t step : idle) complete(*active_[step]);
}

void LocalRunner::pumpFollow(Active& a) {
  bool many = a.procs.size() > 1;
  for (Proc& p : a.procs) {
    int fd = ::open(p.log.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    char buf[1 << 14];
    ssize_t n;
    while ((n = ::pread(fd, buf, sizeof buf, p.follow_offset)) > 0) {
      p.follow_offset += n;
      observer_.followed(many ? p.name : "",
                         llvm::StringRef(buf, std::size_t(n)));
    }
    ::close(fd);
  }
}

int LocalRunner::timeoutMs(std::uint64_t now) const {
  std::int64_t t = -1;
  auto atMost = [&](std::int64_t ms) {
    if (ms < 0) ms = 0;
    if (t < 0 || ms < t) t = ms;
  };
  for (const auto& [step, a] : active_)
    if (a->stopping && !a->killed)
      atMost(std::int64_t(a->kill_at) - std::int64_t(now));
  if (!opts_.follow.empty()) atMost(100);
  if (observer_.tickMs() >= 0) atMost(observer_.tickMs());
  if (journal_ && journal_->dirty()) atMost(Journal::kSyncIntervalMs);
  return int(t);
}

StepRunner::Result LocalRunner::wait() {
  std::vector<ProcessSet::Exit> exits;
  std::uint64_t last_tick = nowMs();
  for (;;) {
    if (!done_.empty()) {
      Result r = done_.front();
      done_.pop_front();
      return r;
    }
    exits.clear();
    procs_.wait(timeoutMs(nowMs()), exits);
    std::uint64_t now = nowMs();
    if (procs_.interruptCount() > interrupts_seen_) {
      interrupts_seen_ = procs_.interruptCount();
      if (!interrupt_) {
        interrupt_ = procs_.interruptSignal();
        interruptAll(now);
      } else {
        // A second signal: no more grace.
        for (auto& [step, a] : active_) a->kill_at = now;
      }
    }
    for (const ProcessSet::Exit& e : exits) onExit(e.pid, e.status);
    for (auto& [step, a] : active_)
      if (a->stopping && !a->killed && now >= a->kill_at) {
        for (Proc& p : a->procs)
          if (p.running) signalProc(p, SIGKILL);
        signalLeftovers(*a, SIGKILL);
        a->killed = true;
      }
    if (!opts_.follow.empty())
      for (auto& [step, a] : active_)
        if (plan_.steps[step].name == opts_.follow) pumpFollow(*a);
    if (observer_.tickMs() >= 0 &&
        now - last_tick >= std::uint64_t(observer_.tickMs())) {
      observer_.tick();
      last_tick = now;
    }
    if (journal_) journal_->maybeSync(now);
  }
}

}  // namespace pipec::runtime
