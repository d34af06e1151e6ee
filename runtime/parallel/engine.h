// The parallel-step engine: splits the input, keeps the workers busy, retries,
// enforces the thresholds and timeouts, and commits each mini-batch's rows
// exactly once.
#pragma once

#include <sys/types.h>

#include <string>

#include "ir/diagnostics.h"
#include "llvm/Support/raw_ostream.h"
#include "runtime/parallel_spec.h"

namespace pipec::runtime::parallel {

/// Exit statuses of `pipec internal-parallel-step`.
enum StepStatus : int {
  kStepPassed = 0,
  kStepFailed = 1,   ///< logs/job_result.txt says why
  kEngineBroken = 3  ///< the engine itself could not work (a bug, a bad spec)
};

/// Where the engine reports.
struct EngineIO {
  ir::DiagnosticEngine* diags = nullptr;  ///< problems, at spec.location
  /// Progress lines. When it fails (stderr on a full disk) progress stops,
  /// parallel.log says why, and its error is cleared before
  /// runParallelStep returns.
  llvm::raw_fd_ostream* progress = nullptr;
  bool terminal = false;  ///< redraw one live line
  /// The process group workers join (tieToParent's); 0: the engine's own.
  pid_t worker_group = 0;
};

/// Runs the step described by `spec` to the end and returns its status.
/// Every file it writes is checked: one it cannot write (a full disk, a
/// quota) fails the step naming it, and on a full disk the engine frees
/// the space it held back (state/reserve) to write its diagnostic and
/// logs/job_result.txt; the journal stays whole for a resume.
/// Writes logs/job_result.txt (one sentence, then "warning: ... [W1230]"
/// when the step passes although no mini-batch succeeded: pipec run reports
/// such lines, and fails the step under --strict), logs/parallel.log,
/// logs/mini_batches.jsonl, logs/workers/worker-N.log and, with
/// resource_monitor_interval, logs/sys/perf/. Call it from the main thread
/// of a process that has nothing else to do: it forks the workers, blocks
/// SIGCHLD/SIGINT/SIGTERM/SIGHUP and reads them from a signalfd.
int runParallelStep(const ParallelStepSpec& spec, const EngineIO& io);

/// Ties this process and everything it starts to its parent: the process
/// gets PR_SET_PDEATHSIG(SIGKILL), and a sentinel process is forked that
/// leads a new process group for the workers (`worker_group`, for
/// EngineIO) and kills that group once this process is gone, however it
/// ended (kill -9 included). So no worker, nor anything a worker started,
/// outlives the engine, and nothing outside the group is touched. Call it
/// first, before any thread starts. Returns false with `error` set when the
/// parent is already gone.
bool tieToParent(pid_t& worker_group, std::string& error);

}  // namespace pipec::runtime::parallel
