// The parallel-step engine: splits the input, keeps the workers busy, retries,
// enforces the thresholds and timeouts, and commits each mini-batch's rows
// exactly once.
#pragma once

#include <sys/types.h>

#include <string>

#include "ir/diagnostics.h"
#include "llvm/Support/raw_ostream.h"
#include "runtime/parallel_spec.h"
#include "runtime/process.h"

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
  /// Watches the workers' process groups (tieToParent's; may be null).
  Guardian* guardian = nullptr;
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
/// gets PR_SET_PDEATHSIG(SIGKILL), and `guardian` is started (for EngineIO),
/// which SIGKILLs every worker's process group once this process is gone,
/// however it ended (kill -9 included). So no worker, nor anything a worker
/// started in its group, outlives the engine. Call it first, before any
/// thread starts. Returns false with `error` set when the parent is already
/// gone or the guardian cannot start.
bool tieToParent(Guardian& guardian, std::string& error);

}  // namespace pipec::runtime::parallel
