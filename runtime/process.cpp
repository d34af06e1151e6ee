// Spawning with clone(CLONE_VM|CLONE_VFORK) (as posix_spawn does, plus
// PR_SET_PDEATHSIG), waiting with sigtimedwait, and the guardian process.
#include "runtime/process.h"

#include <fcntl.h>
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
  int log_fd;
  int devnull;
  pid_t parent;
  const sigset_t* mask;
  volatile int error;  // errno of the step that failed, written by the child
};

int childMain(void* p) {
  auto* a = static_cast<ChildArgs*>(p);
  if (::setpgid(0, 0) != 0 || ::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) {
    a->error = errno;
    ::_exit(127);
  }
  if (::getppid() != a->parent) ::_exit(127);
  auto redirect = [&](int from, int to) {
    if (from == to) return ::fcntl(to, F_SETFD, 0) == 0;
    return ::dup2(from, to) == to;
  };
  if (!redirect(a->devnull, 0) || !redirect(a->log_fd, 1) ||
      !redirect(a->log_fd, 2) || ::chdir(a->cwd) != 0) {
    a->error = errno;
    ::_exit(127);
  }
  ::sigprocmask(SIG_SETMASK, a->mask, nullptr);
  ::execve(a->exe, a->argv, a->envp);
  // A text file without #! runs in sh, as execvp and sh itself do.
  if (errno == ENOEXEC) ::execve("/bin/sh", a->script_argv, a->envp);
  a->error = errno;
  ::_exit(127);
}

// The child's stack: the parent is suspended until exec, and pipec spawns
// from one thread, so one is enough.
alignas(64) char child_stack[64 * 1024];

void guardianMain(int fd, const std::int32_t* table, unsigned grace_ms) {
  struct sigaction ign;
  std::memset(&ign, 0, sizeof ign);
  ign.sa_handler = SIG_IGN;
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE})
    ::sigaction(sig, &ign, nullptr);
  ::setsid();
  int null = ::open("/dev/null", O_RDWR);
  for (int i = 0; i < 3; ++i) ::dup2(null, i);
  ::dup2(fd, 3);
  ::close_range(4, ~0U, 0);
  for (char c;;) {
    ssize_t n = ::read(3, &c, 1);
    if (n == 0 || (n < 0 && errno != EINTR)) break;
  }
  // pipec is gone: what it left in the table is still running.
  std::set<pid_t> groups;
  for (std::size_t i = 0; i < Guardian::kSlots; ++i)
    if (pid_t g = __atomic_load_n(&table[i], __ATOMIC_RELAXED); g > 0)
      groups.insert(g);
  for (pid_t g : groups) ::kill(-g, SIGTERM);
  for (unsigned waited = 0; waited < grace_ms && !groups.empty();
       waited += 20) {
    for (auto it = groups.begin(); it != groups.end();)
      it = ::kill(-*it, 0) != 0 ? groups.erase(it) : std::next(it);
    sleepMs(20);
  }
  for (pid_t g : groups) ::kill(-g, SIGKILL);
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

Guardian::~Guardian() {
  if (fd_ >= 0) ::close(fd_);
  if (table_) ::munmap(table_, kSlots * sizeof(std::int32_t));
}

llvm::Error Guardian::start(unsigned grace_ms) {
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
    guardianMain(fds[0], table_, grace_ms);
  }
  ::close(fds[0]);
  fd_ = fds[1];
  pid_ = pid;
  free_.reserve(64);
  for (std::uint32_t i = 64; i > 0; --i) free_.push_back(i - 1);
  return llvm::Error::success();
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
  for (int sig = 1; sig < 32; ++sig) {
    struct sigaction sa;
    if (sigismember(&wanted_, sig) || sig == SIGKILL || sig == SIGSTOP ||
        ::sigaction(sig, nullptr, &sa) != 0)
      continue;
    if (sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN) handlers_ = true;
  }
  devnull_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

ProcessSet::~ProcessSet() {
  for (auto& [pid, alive] : live_) signalGroup(pid, SIGKILL);
  if (devnull_ >= 0) ::close(devnull_);
  ::sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
}

llvm::Expected<pid_t> ProcessSet::spawn(const SpawnRequest& r) {
  int log_fd =
      ::open(r.log_path.c_str(),
             O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return sysError("cannot open '" + r.log_path + "'", errno);
  std::vector<char*> argv, envp;
  for (const std::string& a : r.argv)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> script_argv{const_cast<char*>("sh"),
                                 const_cast<char*>(r.exe.c_str())};
  script_argv.insert(script_argv.end(), argv.begin() + (argv.size() > 1),
                     argv.end());
  for (const std::string& e : r.env)
    envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  ChildArgs a{r.exe.c_str(),      argv.data(),
              script_argv.data(), envp.data(),
              r.cwd.c_str(),      log_fd,
              devnull_,           self_,
              &old_mask_,         0};
  // No handler may run in the child while it shares our memory. The
  // stopping signals are blocked already; others need blocking only when
  // something installed a handler for them.
  sigset_t all, saved;
  if (handlers_) {
    sigfillset(&all);
    ::sigprocmask(SIG_SETMASK, &all, &saved);
  }
  pid_t pid = ::clone(childMain, child_stack + sizeof child_stack,
                      CLONE_VM | CLONE_VFORK | SIGCHLD, &a);
  int clone_err = errno;
  if (handlers_) ::sigprocmask(SIG_SETMASK, &saved, nullptr);
  ::close(log_fd);
  if (pid < 0) return sysError("cannot start '" + r.exe + "'", clone_err);
  if (a.error != 0) {
    int status;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return sysError("cannot run '" + r.exe + "'", a.error);
  }
  live_[pid] = true;
  if (guardian_) guardian_->watch(pid);
  return pid;
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
