// Spawning with clone(CLONE_VM|CLONE_VFORK) (as posix_spawn does, plus
// PR_SET_PDEATHSIG), the process tree from /proc, waiting with sigtimedwait,
// and the guardian process.
#include "runtime/process.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <set>

#include "llvm/ADT/SmallVector.h"

namespace pipec::runtime {

namespace {

llvm::Error sysError(const std::string& what, int err) {
  return llvm::createStringError(std::error_code(err, std::generic_category()),
                                 "%s: %s", what.c_str(), std::strerror(err));
}

bool isExecutableFile(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
         ::access(p.c_str(), X_OK) == 0;
}

// What the child needs, prepared by the parent: the child shares the
// parent's memory and must not allocate.
struct ChildArgs {
  const char* exe;
  char* const* argv;
  char* const* script_argv;  // sh EXE ARGS...: for a file exec cannot run
  char* const* envp;
  const char* cwd;
  const int* fds;
  int nfds;
  bool move_fds;  // some source is in the way of a target: move them all
  bool close_others;
  pid_t group;
  pid_t parent;
  const sigset_t* mask;
  const sigset_t* defaults;
  const sigset_t* handled;
  int rt_min;          // glibc keeps the signals below SIGRTMIN for itself
  volatile int error;  // errno of the step that failed, written by the child
};

[[noreturn]] void childFail(ChildArgs* a) {
  a->error = errno;
  ::_exit(127);
}

int childMain(void* p) {
  auto* a = static_cast<ChildArgs*>(p);
  if (a->group != kParentProcessGroup &&
      ::setpgid(0, a->group == kNewProcessGroup ? 0 : a->group) != 0)
    childFail(a);
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) childFail(a);
  if (::getppid() != a->parent) ::_exit(127);
  // The child shares the parent's memory until exec: no handler of the
  // parent's may run in it. Every signal is blocked (by the parent) until
  // the mask below, and handled ones go back to their default here.
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP || (sig >= 32 && sig < a->rt_min))
      continue;
    if (a->handled && !sigismember(a->handled, sig) &&
        !(a->defaults && sigismember(a->defaults, sig)))
      continue;
    struct sigaction sa;
    if (::sigaction(sig, nullptr, &sa) != 0) continue;
    bool handled = (sa.sa_flags & SA_SIGINFO) ||
                   (sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN);
    if (!handled && !(a->defaults && sigismember(a->defaults, sig) &&
                      sa.sa_handler == SIG_IGN))
      continue;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    ::sigaction(sig, &sa, nullptr);
  }
  // Sources first out of the way of the targets when they collide, then
  // into place (dup2 clears close-on-exec; an fd already in place keeps its
  // descriptor and loses the flag).
  int moved[16];
  for (int i = 0; i < a->nfds; ++i) {
    moved[i] = a->fds[i];
    if (a->move_fds &&
        (moved[i] = ::fcntl(a->fds[i], F_DUPFD_CLOEXEC, a->nfds)) < 0)
      childFail(a);
  }
  for (int i = 0; i < a->nfds; ++i) {
    bool ok =
        moved[i] == i ? ::fcntl(i, F_SETFD, 0) == 0 : ::dup2(moved[i], i) == i;
    if (!ok) childFail(a);
  }
  if (a->close_others) ::close_range(unsigned(a->nfds), ~0U, 0);
  if (a->cwd && *a->cwd && ::chdir(a->cwd) != 0) childFail(a);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, a->mask ? a->mask : &none, nullptr);
  ::execve(a->exe, a->argv, a->envp);
  // A text file without #! runs in sh, as execvp and sh itself do.
  if (errno == ENOEXEC) ::execve("/bin/sh", a->script_argv, a->envp);
  childFail(a);
}

bool readWhole(const std::string& path, std::string& out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  out.clear();
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, std::size_t(n));
  }
  ::close(fd);
  return true;
}

// The pids of a /proc listing of numbers separated by spaces.
void appendPids(llvm::StringRef text, std::vector<pid_t>& out) {
  llvm::SmallVector<llvm::StringRef, 16> words;
  text.split(words, ' ', -1, false);
  for (llvm::StringRef w : words) {
    int pid;
    if (!w.trim().getAsInteger(10, pid) && pid > 0) out.push_back(pid);
  }
}

// The fields of /proc/PID/stat after the command name: state first.
bool statFields(pid_t pid, std::string& text, llvm::StringRef& fields) {
  if (!readWhole("/proc/" + std::to_string(pid) + "/stat", text)) return false;
  auto close = text.rfind(')');
  if (close == std::string::npos || close + 2 > text.size()) return false;
  fields = llvm::StringRef(text).drop_front(close + 2);
  return true;
}

// Every process's parent, from /proc/*/stat (kernels without "children").
std::vector<pid_t> scanChildren(pid_t parent) {
  std::vector<pid_t> out;
  DIR* d = ::opendir("/proc");
  if (!d) return out;
  std::string text;
  while (struct dirent* e = ::readdir(d)) {
    int pid;
    if (llvm::StringRef(e->d_name).getAsInteger(10, pid)) continue;
    llvm::StringRef fields;
    if (!statFields(pid, text, fields)) continue;
    llvm::SmallVector<llvm::StringRef, 4> f;
    fields.split(f, ' ', 3);
    int ppid;
    if (f.size() > 1 && !f[1].getAsInteger(10, ppid) && ppid == parent)
      out.push_back(pid);
  }
  ::closedir(d);
  return out;
}

// Stops `pids` (process groups when `groups`): SIGTERM, up to `grace_ms`
// for them to go, then SIGKILL.
void stopAll(std::set<pid_t> pids, bool groups, unsigned grace_ms) {
  auto gone = [&](pid_t p) {
    return groups ? ::kill(-p, 0) != 0 : !processRunning(p);
  };
  for (pid_t p : pids) ::kill(groups ? -p : p, SIGTERM);
  for (unsigned waited = 0; waited < grace_ms && !pids.empty(); waited += 20) {
    for (auto it = pids.begin(); it != pids.end();)
      it = gone(*it) ? pids.erase(it) : std::next(it);
    if (!pids.empty()) sleepMs(20);
  }
  for (pid_t p : pids) ::kill(groups ? -p : p, SIGKILL);
}

// Processes other than this one whose environment has an entry starting
// with `mark` (another user's environment cannot be read).
std::set<pid_t> markedProcesses(llvm::StringRef mark) {
  std::set<pid_t> out;
  DIR* d = ::opendir("/proc");
  if (!d) return out;
  pid_t self = ::getpid();
  while (struct dirent* e = ::readdir(d)) {
    int pid;
    if (llvm::StringRef(e->d_name).getAsInteger(10, pid) || pid == self)
      continue;
    if (environmentHas(processEnvironment(pid), mark)) out.insert(pid);
  }
  ::closedir(d);
  return out;
}

[[noreturn]] void guardianMain(int fd, int keep_fd, const std::int32_t* table,
                               unsigned grace_ms, const std::string& mark) {
  struct sigaction ign;
  std::memset(&ign, 0, sizeof ign);
  ign.sa_handler = SIG_IGN;
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE})
    ::sigaction(sig, &ign, nullptr);
  ::setsid();
  // Out of the way of 0..4 first: either may be one of them.
  fd = ::fcntl(fd, F_DUPFD, 10);
  if (keep_fd >= 0) keep_fd = ::fcntl(keep_fd, F_DUPFD, 10);
  int null = ::open("/dev/null", O_RDWR);
  for (int i = 0; i < 3; ++i) ::dup2(null, i);
  ::dup2(fd, 3);
  if (keep_fd >= 0) ::dup2(keep_fd, 4);
  ::close_range(keep_fd >= 0 ? 5 : 4, ~0U, 0);
  bool dismissed = false;
  for (char c;;) {
    ssize_t n = ::read(3, &c, 1);
    if (n == 0 || (n < 0 && errno != EINTR)) break;
    if (n == 1 && c == 'd') dismissed = true;
  }
  // pipec is gone: what it left in the table is still running, and so may
  // be what left its group, unless pipec stopped that itself.
  std::set<pid_t> groups;
  for (std::size_t i = 0; i < Guardian::kSlots; ++i)
    if (pid_t g = __atomic_load_n(&table[i], __ATOMIC_RELAXED); g > 0)
      groups.insert(g);
  bool marks = !dismissed && !mark.empty();
  std::set<pid_t> marked;
  if (marks) marked = markedProcesses(mark);
  for (pid_t p : marked) ::kill(p, SIGTERM);
  stopAll(std::move(groups), true, grace_ms);
  // The marked ones had the same grace, from the same moment.
  stopAll(std::move(marked), false, 0);
  // And what those started before they went.
  if (marks)
    for (pid_t p : markedProcesses(mark)) ::kill(p, SIGKILL);
  ::_exit(0);
}

}  // namespace

std::uint64_t monotonicMs() {
  struct timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::uint64_t(ts.tv_sec) * 1000 + std::uint64_t(ts.tv_nsec) / 1000000;
}

void sleepMs(unsigned ms) {
  struct timespec ts {
    time_t(ms / 1000), long(ms % 1000) * 1000000L
  };
  while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

std::string findExecutable(llvm::StringRef name, llvm::StringRef path,
                           llvm::StringRef cwd) {
  if (name.empty()) return "";
  if (name.contains('/')) {
    std::string p =
        name.startswith("/") ? name.str() : (cwd.str() + "/" + name.str());
    return isExecutableFile(p) ? p : "";
  }
  while (!path.empty()) {
    auto [dir, rest] = path.split(':');
    path = rest;
    std::string p = (dir.empty() ? cwd.str() : dir.str()) + "/" + name.str();
    if (isExecutableFile(p)) return p;
  }
  return "";
}

llvm::Expected<pid_t> spawnChild(const ChildSpec& spec) {
  constexpr std::size_t kMaxFds = 16;
  if (spec.fds.size() > kMaxFds)
    return sysError("cannot start '" + std::string(spec.exe) + "'", EINVAL);
  std::vector<char*> argv, envp;
  argv.reserve(spec.argv.size() + 1);
  for (const std::string& a : spec.argv)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> script_argv{const_cast<char*>("sh"),
                                 const_cast<char*>(spec.exe)};
  script_argv.insert(script_argv.end(), argv.begin() + (argv.size() > 1),
                     argv.end());
  envp.reserve(spec.env.size() + 1);
  for (const std::string& e : spec.env)
    envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  int nfds = int(spec.fds.size());
  bool move_fds = false;
  for (int i = 0; i < nfds; ++i)
    move_fds |= spec.fds[i] < nfds && spec.fds[i] != i;
  ChildArgs a{spec.exe,
              argv.data(),
              script_argv.data(),
              envp.data(),
              spec.cwd,
              spec.fds.data(),
              nfds,
              move_fds,
              spec.close_other_fds,
              spec.process_group,
              ::getpid(),
              spec.mask,
              spec.default_signals,
              spec.handled,
              SIGRTMIN,
              0};
  // Every signal stays blocked until the child has reset its handlers.
  sigset_t all, saved;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &saved);
  // The child runs on this stack: the caller is suspended until it execs.
  alignas(64) char stack[32 * 1024];
  pid_t pid = ::clone(childMain, stack + sizeof stack,
                      CLONE_VM | CLONE_VFORK | SIGCHLD, &a);
  int clone_err = errno;
  ::pthread_sigmask(SIG_SETMASK, &saved, nullptr);
  if (pid < 0)
    return sysError("cannot start '" + std::string(spec.exe) + "'", clone_err);
  if (a.error != 0) {
    int status;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return sysError("cannot run '" + std::string(spec.exe) + "'", a.error);
  }
  return pid;
}

std::vector<pid_t> childProcesses(pid_t pid) {
  std::vector<pid_t> out;
  std::string task = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = ::opendir(task.c_str());
  if (!d) return out;
  std::string text;
  bool listed = false;
  while (struct dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    if (readWhole(task + "/" + e->d_name + "/children", text)) {
      listed = true;
      appendPids(text, out);
    }
  }
  ::closedir(d);
  return listed ? out : scanChildren(pid);
}

std::vector<pid_t> descendantProcesses(pid_t pid) {
  std::vector<pid_t> out = childProcesses(pid);
  for (std::size_t i = 0; i < out.size() && out.size() < 100000; ++i) {
    std::vector<pid_t> more = childProcesses(out[i]);
    out.insert(out.end(), more.begin(), more.end());
  }
  return out;
}

bool processRunning(pid_t pid) {
  std::string text;
  llvm::StringRef fields;
  return statFields(pid, text, fields) && !fields.startswith("Z") &&
         !fields.startswith("X");
}

std::string processEnvironment(pid_t pid) {
  std::string text;
  if (!readWhole("/proc/" + std::to_string(pid) + "/environ", text)) return "";
  return text;
}

bool environmentHas(llvm::StringRef environ, llvm::StringRef prefix) {
  while (!environ.empty()) {
    auto [entry, rest] = environ.split('\0');
    if (entry.startswith(prefix)) return true;
    environ = rest;
  }
  return false;
}

Guardian::~Guardian() {
  if (fd_ >= 0) ::close(fd_);
  if (table_) ::munmap(table_, kSlots * sizeof(std::int32_t));
}

llvm::Error Guardian::start(unsigned grace_ms, std::string environment_mark,
                            int keep_fd) {
  void* mem = ::mmap(nullptr, kSlots * sizeof(std::int32_t),
                     PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return sysError("mmap", errno);
  table_ = static_cast<std::int32_t*>(mem);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return sysError("pipe", errno);
  pid_t pid = ::fork();
  if (pid < 0) {
    int err = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    return sysError("fork", err);
  }
  if (pid == 0) {
    ::close(fds[1]);
    guardianMain(fds[0], keep_fd, table_, grace_ms, environment_mark);
  }
  ::close(fds[0]);
  fd_ = fds[1];
  pid_ = pid;
  free_.reserve(64);
  for (std::uint32_t i = 64; i > 0; --i) free_.push_back(i - 1);
  return llvm::Error::success();
}

void Guardian::dismiss() {
  if (fd_ >= 0) (void)!::write(fd_, "d", 1);
}

void Guardian::watch(pid_t pgid) {
  if (!table_ || slot_.count(pgid)) return;
  if (free_.empty()) {
    // Grow the pool of slots in use; pages are touched only when used.
    std::size_t used = slot_.size();
    if (used >= kSlots) return;
    std::size_t more = std::min<std::size_t>(used, kSlots - used);
    for (std::size_t i = used + more; i > used; --i)
      free_.push_back(std::uint32_t(i - 1));
  }
  std::uint32_t i = free_.back();
  free_.pop_back();
  slot_[pgid] = i;
  __atomic_store_n(&table_[i], std::int32_t(pgid), __ATOMIC_RELAXED);
}

void Guardian::unwatch(pid_t pgid) {
  auto it = slot_.find(pgid);
  if (it == slot_.end()) return;
  __atomic_store_n(&table_[it->second], 0, __ATOMIC_RELAXED);
  free_.push_back(it->second);
  slot_.erase(it);
}

ProcessSet::ProcessSet(Guardian* guardian) : guardian_(guardian) {
  sigemptyset(&wanted_);
  for (int sig : {SIGINT, SIGTERM, SIGCHLD}) sigaddset(&wanted_, sig);
  // Under nohup SIGHUP stays ignored; a shell's background job also starts
  // with SIGINT ignored, but an explicit SIGINT still means stop.
  struct sigaction hup;
  if (::sigaction(SIGHUP, nullptr, &hup) == 0 && hup.sa_handler != SIG_IGN)
    sigaddset(&wanted_, SIGHUP);
  ::sigprocmask(SIG_BLOCK, &wanted_, &old_mask_);
  self_ = ::getpid();
  // The handlers there are now; a child resets those (and no other).
  sigemptyset(&handled_);
  for (int sig = 1; sig < NSIG; ++sig) {
    struct sigaction sa;
    if (sig != SIGKILL && sig != SIGSTOP &&
        ::sigaction(sig, nullptr, &sa) == 0 &&
        ((sa.sa_flags & SA_SIGINFO) ||
         (sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN)))
      sigaddset(&handled_, sig);
  }
  int was = 0;
  if (::prctl(PR_GET_CHILD_SUBREAPER, &was) == 0 && !was)
    subreaper_ = ::prctl(PR_SET_CHILD_SUBREAPER, 1) == 0;
  devnull_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  std::string children = "/proc/" + std::to_string(self_) + "/task/" +
                         std::to_string(self_) + "/children";
  children_fd_ = ::open(children.c_str(), O_RDONLY | O_CLOEXEC);
}

ProcessSet::~ProcessSet() {
  for (auto& [pid, alive] : live_) {
    signalDescendants(pid, SIGKILL);
    signalGroup(pid, SIGKILL);
  }
  signalAdopted(SIGKILL, [](pid_t, llvm::StringRef) { return true; });
  if (subreaper_) ::prctl(PR_SET_CHILD_SUBREAPER, 0);
  if (devnull_ >= 0) ::close(devnull_);
  if (children_fd_ >= 0) ::close(children_fd_);
  ::sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
}

llvm::Expected<pid_t> ProcessSet::spawn(const SpawnRequest& r) {
  int log_fd =
      ::open(r.log_path.c_str(),
             O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return sysError("cannot open '" + r.log_path + "'", errno);
  int fds[3] = {devnull_, log_fd, log_fd};
  ChildSpec spec;
  spec.exe = r.exe.c_str();
  spec.argv = r.argv;
  spec.env = r.env;
  spec.cwd = r.cwd.c_str();
  spec.fds = fds;
  spec.mask = &old_mask_;
  spec.handled = &handled_;
  auto pid = spawnChild(spec);
  ::close(log_fd);
  if (!pid) return pid.takeError();
  live_[*pid] = true;
  if (guardian_) guardian_->watch(*pid);
  return *pid;
}

void ProcessSet::signalGroup(pid_t pgid, int sig) {
  ::kill(-pgid, sig);
  if (sig == SIGKILL && guardian_ && live_.count(pgid))
    guardian_->unwatch(pgid);
}

void ProcessSet::release(pid_t pid) {
  auto it = live_.find(pid);
  if (it == live_.end()) return;
  ::kill(-pid, SIGKILL);
  if (guardian_) guardian_->unwatch(pid);
  live_.erase(it);
}

void ProcessSet::signalDescendants(pid_t pid, int sig) {
  for (pid_t p : descendantProcesses(pid)) ::kill(p, sig);
}

std::vector<pid_t> ProcessSet::adopted() const {
  std::vector<pid_t> out;
  // Orphans go to the main thread of their subreaper, as spawned children
  // do: its list, read again through the descriptor kept open, is all there
  // is to read.
  std::vector<pid_t> children;
  char buf[4096];
  ssize_t n =
      children_fd_ >= 0 ? ::pread(children_fd_, buf, sizeof buf, 0) : -1;
  if (n >= 0 && std::size_t(n) < sizeof buf)
    appendPids(llvm::StringRef(buf, std::size_t(n)), children);
  else
    children = childProcesses(self_);
  for (pid_t p : children)
    if (!live_.count(p) && !(guardian_ && p == guardian_->pid()) &&
        processRunning(p))
      out.push_back(p);
  return out;
}

std::vector<pid_t> ProcessSet::signalAdopted(
    int sig, llvm::function_ref<bool(pid_t, llvm::StringRef)> select) {
  std::vector<pid_t> picked;
  std::set<pid_t> seen, passed;
  // SIGKILLed processes take a moment to go, and what they started is
  // adopted once they are gone; an environment reads as empty while its
  // process execs. A bounded number of rounds, each a few reads.
  for (int round = 0; round < 200; ++round) {
    bool any = false, unread = false;
    for (pid_t p : adopted()) {
      if (passed.count(p)) continue;
      if (!seen.count(p)) {
        std::string env = processEnvironment(p);
        if (env.empty() && round < 20) {
          unread = true;
          continue;
        }
        if (!select(p, env)) {
          passed.insert(p);
          continue;
        }
        seen.insert(p);
        picked.push_back(p);
      }
      any = true;
      ::kill(p, sig);
      for (pid_t d : descendantProcesses(p)) ::kill(d, sig);
    }
    if (!unread && (!any || sig != SIGKILL)) break;
    sleepMs(1);
  }
  return picked;
}

void ProcessSet::wait(int timeout_ms, std::vector<Exit>& exits) {
  auto reap = [&] {
    std::size_t before = exits.size();
    for (;;) {
      int status;
      pid_t pid = ::waitpid(-1, &status, WNOHANG);
      if (pid <= 0) break;
      if (guardian_ && pid == guardian_->pid()) continue;
      exits.push_back({pid, status});
    }
    return exits.size() != before;
  };
  if (reap()) return;
  struct timespec ts {
    time_t(timeout_ms / 1000), long(timeout_ms % 1000) * 1000000L
  };
  for (;;) {
    siginfo_t info;
    int sig = ::sigtimedwait(&wanted_, &info, timeout_ms < 0 ? nullptr : &ts);
    if (sig < 0) {
      if (errno == EINTR) continue;
      return;  // timeout
    }
    if (sig == SIGCHLD) {
      if (reap()) return;
      continue;
    }
    if (!interrupt_) interrupt_ = sig;
    ++interrupts_;
    reap();
    return;
  }
}

}  // namespace pipec::runtime
