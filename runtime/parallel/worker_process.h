// Starting a harness worker process: pipes on fds 3 and 4, the shared phase
// slot on fd 5, output to a log file, death with the engine.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace pipec::runtime {
class Guardian;
}

namespace pipec::runtime::parallel {

/// How every worker process starts.
struct LaunchConfig {
  std::string program;            ///< absolute path of the interpreter
  std::vector<std::string> args;  ///< after argv[0]; the index is appended
  std::vector<std::string> env;   ///< "NAME=VALUE"
  std::string cwd;
  /// Watches each worker's process group (may be null).
  Guardian* guardian = nullptr;
};

/// A running worker as the engine sees it.
struct WorkerProcess {
  pid_t pid = -1;
  int to_worker = -1;    ///< requests (non-blocking write end)
  int from_worker = -1;  ///< replies (non-blocking read end)
  /// The harness's phase counter: 2k while loading mini-batch k, 2k+1 while
  /// running it.
  volatile std::int64_t* slot = nullptr;
  int slot_fd = -1;
  Guardian* guardian = nullptr;

  /// Closes the descriptors and unmaps the slot; once the worker was reaped,
  /// also SIGKILLs what is left in its process group (a worker that ended
  /// leaves nothing behind) and stops watching it.
  void release();
  std::int64_t phase() const { return slot ? *slot : 0; }
};

/// Starts worker `index` with runtime::spawnChild(): in a process group of
/// its own (watched by the config's guardian), with PR_SET_PDEATHSIG(SIGKILL),
/// default signal handling, stdin from /dev/null, stdout and stderr appended
/// to `log_path`, fds 3/4/5 as above and nothing else open.
bool spawnWorker(const LaunchConfig& config, int index,
                 const std::string& log_path, WorkerProcess& out,
                 std::string& error);

}  // namespace pipec::runtime::parallel
