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

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

namespace pipec::runtime {

/// Resolves `name` the way execvp would: a name with a '/' relative to `cwd`,
/// anything else through the ':'-separated `path`. Returns the absolute path
/// of an executable regular file, or empty.
std::string findExecutable(llvm::StringRef name, llvm::StringRef path,
                           llvm::StringRef cwd);

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
/// registered, waits `grace_ms`, then SIGKILLs what is left. The groups are
/// kept in memory shared with the guardian, so registering costs no system
/// call and never wakes it; it sleeps on a pipe until pipec is gone.
class Guardian {
 public:
  Guardian() = default;
  ~Guardian();
  Guardian(const Guardian&) = delete;
  Guardian& operator=(const Guardian&) = delete;

  llvm::Error start(unsigned grace_ms);
  void watch(pid_t pgid);
  void unwatch(pid_t pgid);
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

 private:
  Guardian* guardian_;
  sigset_t old_mask_;
  sigset_t wanted_;
  int devnull_ = -1;
  pid_t self_ = 0;
  bool handlers_ = false;  // some signal has a handler: block all to spawn
  int interrupt_ = 0;
  int interrupts_ = 0;
  std::map<pid_t, bool> live_;
};

/// Waits `ms` milliseconds (for tests and grace periods outside a loop).
void sleepMs(unsigned ms);
/// Milliseconds on the monotonic clock.
std::uint64_t monotonicMs();

}  // namespace pipec::runtime
