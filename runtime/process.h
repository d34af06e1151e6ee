// Child processes: spawning into their own process groups, one wait loop over
// all of them, signals, and a guardian that outlives pipec to stop orphans.
#pragma once

#include <sys/types.h>

#include <csignal>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

namespace pipec::runtime {

/// Resolves `name` the way execvp would: a name with a '/' relative to `cwd`,
/// anything else through the ':'-separated `path`. Returns the absolute path
/// of an executable regular file, or empty.
std::string findExecutable(llvm::StringRef name, llvm::StringRef path,
                           llvm::StringRef cwd);

/// The process group of a new child: kNewProcessGroup (the child leads a
/// group of its own), kParentProcessGroup (it stays in the caller's), or the
/// id of a group to join.
inline constexpr pid_t kNewProcessGroup = 0;
inline constexpr pid_t kParentProcessGroup = -1;

/// How spawnChild() starts a process. Views: everything must outlive the call.
struct ChildSpec {
  const char* exe = nullptr;         ///< absolute path to execute
  llvm::ArrayRef<std::string> argv;  ///< argv[0] included
  llvm::ArrayRef<std::string> env;   ///< "NAME=VALUE", the whole environment
  const char* cwd = nullptr;         ///< null or "": the caller's
  /// Descriptors of the caller the child gets: fds[i] becomes descriptor i
  /// (0, 1, 2, then 3, ...). Every other descriptor closes on exec as usual.
  llvm::ArrayRef<int> fds;
  pid_t process_group = kNewProcessGroup;
  /// Also close every descriptor above the last of `fds`, close-on-exec or
  /// not.
  bool close_other_fds = false;
  /// The signal mask the child starts with; null: nothing blocked.
  const sigset_t* mask = nullptr;
  /// Signals the child gets back at their default disposition. Signals with a
  /// handler always start at their default; ignored ones stay ignored unless
  /// listed here (as make and posix_spawn leave them).
  const sigset_t* default_signals = nullptr;
  /// The signals the caller has handlers for, when it knows (null: the child
  /// looks at every signal, a system call each).
  const sigset_t* handled = nullptr;
};

/// Starts a process: the one spawner of pipec (the steps of `pipec run`, the
/// parallel engine's workers). clone(CLONE_VM|CLONE_VFORK) as posix_spawn
/// does; the child sets its process group and PR_SET_PDEATHSIG(SIGKILL) (it
/// dies with the calling thread), puts its descriptors, folder, signals and
/// mask in place and execs (a file without `#!` runs in sh, as execvp does).
/// Only system calls run in the child, so other threads may exist. Returns
/// the pid, or an error with the errno of the step that failed (exec's when
/// the program could not start; no child is left then).
llvm::Expected<pid_t> spawnChild(const ChildSpec& spec);

/// The children of `pid` (zombies included), from
/// /proc/PID/task/TID/children, or a scan of /proc where the kernel lacks it.
std::vector<pid_t> childProcesses(pid_t pid);
/// Every descendant of `pid`, parents before their children.
std::vector<pid_t> descendantProcesses(pid_t pid);
/// True when `pid` exists and has not ended (a zombie has ended).
bool processRunning(pid_t pid);
/// The environment `pid` was started with: "NAME=VALUE" entries, each ended
/// by a NUL; empty when it cannot be read (another user's, a zombie).
std::string processEnvironment(pid_t pid);
/// True when `environ` (as processEnvironment() returns it) has an entry
/// that starts with `prefix`.
bool environmentHas(llvm::StringRef environ, llvm::StringRef prefix);

/// One process to start.
struct SpawnRequest {
  std::string exe;                ///< absolute path to execute
  std::vector<std::string> argv;  ///< argv[0] included
  std::vector<std::string> env;   ///< "NAME=VALUE", the whole environment
  std::string cwd;
  /// Standard output and error both go to this file (created, truncated).
  std::string log_path;
};

/// Watches process groups from a separate process: when pipec dies, however
/// it dies (even `kill -9`), the guardian sends SIGTERM to every group still
/// registered and to every process whose environment carries the mark given
/// to start() (processes that left their groups), waits `grace_ms`, then
/// SIGKILLs what is left. The groups are kept in memory shared with the
/// guardian, so registering costs no system call and never wakes it; it
/// sleeps on a pipe until pipec is gone.
class Guardian {
 public:
  Guardian() = default;
  ~Guardian();
  Guardian(const Guardian&) = delete;
  Guardian& operator=(const Guardian&) = delete;

  /// Forks the guardian; call it before any thread starts. `environment_mark`
  /// (may be empty): once pipec is gone, every process of this user with an
  /// environment entry starting with it is stopped too. `keep_fd` (or -1): a
  /// descriptor the guardian holds open until it is done, such as the
  /// descriptor a run directory's lock is held through.
  llvm::Error start(unsigned grace_ms, std::string environment_mark = "",
                    int keep_fd = -1);
  void watch(pid_t pgid);
  void unwatch(pid_t pgid);
  /// pipec stopped everything itself: the guardian only stops the groups
  /// still registered when pipec is gone, without looking for marked
  /// processes.
  void dismiss();
  pid_t pid() const { return pid_; }

  /// Groups watched at once, at most.
  static constexpr std::size_t kSlots = 1 << 16;

 private:
  int fd_ = -1;
  pid_t pid_ = -1;
  std::int32_t* table_ = nullptr;  // kSlots entries shared with the guardian
  std::vector<std::uint32_t> free_;
  std::map<pid_t, std::uint32_t> slot_;
};

/// Every child of a run and the signals that stop the run. While a
/// ProcessSet lives, SIGINT, SIGTERM, SIGCHLD and (unless ignored, as under
/// nohup) SIGHUP are blocked and taken synchronously in wait(); children
/// start with the original mask and inherit dispositions as make's do.
/// Signal handlers are to be installed before the set is made.
///
/// The set makes this process the subreaper of everything its children start
/// (PR_SET_CHILD_SUBREAPER): a process that loses its parent, in whatever
/// session or group, becomes a child of this one ("adopted") instead of
/// init's, is reaped by wait() and can be found and stopped. The destructor
/// stops every child and every adopted process, with all their descendants.
class ProcessSet {
 public:
  explicit ProcessSet(Guardian* guardian = nullptr);
  ~ProcessSet();
  ProcessSet(const ProcessSet&) = delete;
  ProcessSet& operator=(const ProcessSet&) = delete;

  /// Starts `r` in a new process group (its own pid), stdin from /dev/null,
  /// with PR_SET_PDEATHSIG so that it dies with pipec. Fails when the log
  /// cannot be opened or exec fails (the errno of exec is in the error).
  llvm::Expected<pid_t> spawn(const SpawnRequest& r);

  /// A child that ended: its pid and wait status.
  struct Exit {
    pid_t pid;
    int status;
  };
  /// Waits until a child ends, a stopping signal arrives or `timeout_ms`
  /// passes (negative: no limit); appends every ended child to `exits`.
  void wait(int timeout_ms, std::vector<Exit>& exits);
  /// The first SIGINT/SIGTERM/SIGHUP received, or 0.
  int interruptSignal() const { return interrupt_; }
  /// How many of them arrived (a second one cuts the grace period short).
  int interruptCount() const { return interrupts_; }

  /// Sends `sig` to the process group `pgid`; SIGKILL also unregisters the
  /// group from the guardian.
  void signalGroup(pid_t pgid, int sig);
  /// Groups started and not yet released.
  std::size_t running() const { return live_.size(); }
  /// Forgets the group of `pid` after its leader was reaped: SIGKILLs what
  /// is left in it (a finished step leaves nothing behind) and unregisters.
  void release(pid_t pid);

  /// Sends `sig` to every descendant of `pid` (not to `pid`), whatever
  /// session or process group it moved to.
  void signalDescendants(pid_t pid, int sig);
  /// Running processes that became children of this one without being
  /// started by it: orphans it adopted as their subreaper.
  std::vector<pid_t> adopted() const;
  /// Sends `sig` to each adopted process that `select` picks (given its pid
  /// and its environment, see processEnvironment()) and to all of its
  /// descendants. With SIGKILL, repeats until none of them runs (what they
  /// had started is adopted in turn). Returns the adopted processes picked.
  std::vector<pid_t> signalAdopted(
      int sig, llvm::function_ref<bool(pid_t, llvm::StringRef)> select);

 private:
  Guardian* guardian_;
  sigset_t old_mask_;
  sigset_t wanted_;
  int devnull_ = -1;
  int children_fd_ = -1;  // /proc/SELF/task/SELF/children
  pid_t self_ = 0;
  bool subreaper_ = false;  // this set made the process a subreaper
  sigset_t handled_;        // signals with a handler when the set was made
  int interrupt_ = 0;
  int interrupts_ = 0;
  std::map<pid_t, bool> live_;
};

/// Waits `ms` milliseconds (for tests and grace periods outside a loop).
void sleepMs(unsigned ms);
/// Milliseconds on the monotonic clock.
std::uint64_t monotonicMs();

}  // namespace pipec::runtime
