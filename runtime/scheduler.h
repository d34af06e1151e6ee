// The scheduler: starts steps as soon as their inputs are ready, up to a
// number of jobs, and stops the dependants of a failed step. It decides
// nothing about processes; a StepRunner does the work.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

namespace pipec::runtime {

enum class StepStatus : unsigned char {
  Pending,      ///< not started yet
  Running,      ///< started, not ended
  Succeeded,    ///< ended well in this session
  Failed,       ///< ended badly, or could not start
  Skipped,      ///< a dependency failed
  Resumed,      ///< finished in an earlier session (--resume)
  Cached,       ///< its outputs restored from the step cache
  Interrupted,  ///< stopped by a signal
  NotRun,       ///< never started because the run was interrupted
};
/// "ok", "FAILED", "skipped", "resumed", "cached", "interrupted", ...
const char* stepStatusName(StepStatus s);

/// Runs the steps the scheduler hands it (ninja's CommandRunner).
class StepRunner {
 public:
  virtual ~StepRunner();
  /// Starts `step`. Its end, also when it cannot start at all, is reported
  /// by a later wait().
  virtual void start(std::size_t step) = 0;
  struct Result {
    std::size_t step;
    StepStatus status;  ///< Succeeded, Cached, Failed or Interrupted
  };
  /// Blocks until a started step ends.
  virtual Result wait() = 0;
  /// A hint: `step` is ready and starts as soon as a job slot frees. A
  /// runner may do its setup while it waits anyway.
  virtual void prepare(std::size_t /*step*/) {}
  /// True once the run is being stopped: nothing more is started.
  virtual bool interrupted() const = 0;
};

class Scheduler {
 public:
  /// `deps[i]`: the steps step i reads from. `jobs`: steps running at once
  /// (at least 1).
  Scheduler(std::vector<std::vector<std::size_t>> deps, unsigned jobs);

  /// Treats `step` as finished before this session (it is not started).
  void markResumed(std::size_t step);
  /// Runs every step that can run; returns true when none failed and the
  /// run was not interrupted. Ready steps start in index order; the next
  /// `jobs` of them are offered to StepRunner::prepare() while waiting.
  bool run(StepRunner& runner);

  StepStatus status(std::size_t step) const { return status_[step]; }
  /// For a skipped step: the failed step that stopped it.
  std::optional<std::size_t> blocker(std::size_t step) const;

 private:
  std::vector<std::vector<std::size_t>> deps_, dependants_;
  unsigned jobs_;
  std::vector<StepStatus> status_;
  std::vector<std::size_t> blocker_;
};

}  // namespace pipec::runtime
