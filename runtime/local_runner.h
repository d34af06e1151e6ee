// The StepRunner of `pipec run`: lays out each step, fetches code, builds
// virtual environments, starts the step's processes and waits for them in
// one loop, stops them on failure or on a signal.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "ir/diagnostics.h"
#include "runtime/cache.h"
#include "runtime/file_system.h"
#include "runtime/journal.h"
#include "runtime/plan.h"
#include "runtime/process.h"
#include "runtime/scheduler.h"
#include "runtime/status.h"
#include "runtime/topology.h"

namespace pipec::runtime {

/// Where the AIMaster of an elasticbatch step plugs in. start() runs before
/// the workers start and may add to their environment (the address of the
/// shard service); stop() runs after the last worker ended.
class ElasticBatchMaster {
 public:
  virtual ~ElasticBatchMaster();
  virtual llvm::Error start(const StepPlan& step, ir::EnvList& worker_env) = 0;
  /// Worker process `process` of `step` ended with wait status `status`
  /// while the step runs. True: the master gives its work to the others and
  /// the runner starts the process again (its output goes on in
  /// logs/<process>.restart-N.log); false (the default): the step fails as
  /// a distributed job does.
  virtual bool restartWorker(const StepPlan& step, const std::string& process,
                             int status);
  /// Once every worker ended successfully: an error fails the step (work
  /// left undone). The default has none.
  virtual llvm::Error finished(const StepPlan& step);
  virtual void stop(const StepPlan& step, bool succeeded) = 0;
};

struct RunnerOptions {
  /// Between SIGTERM and SIGKILL when processes are stopped.
  unsigned grace_ms = 5000;
  /// The step whose output is streamed to the observer (empty: none).
  std::string follow;
  /// Step folders may hold files of an earlier session: clear them first
  /// (keeping a parallel step's state/ and logs/).
  bool clear_step_dirs = false;
  ElasticBatchMaster* elastic_master = nullptr;
  /// A parallel step that passes with a warning in its job_result.txt (no
  /// mini-batch succeeded) fails (`pipec run --strict`). Without it the
  /// warning is reported (W1231), and fails the step under --Werror.
  bool strict = false;
  /// Ports for distributed jobs (default: a LoopbackPortPicker).
  PortPicker* ports = nullptr;
  /// The GPUs every process sees (a value checkGpuList() accepts): sets
  /// NVIDIA_VISIBLE_DEVICES, and CUDA_VISIBLE_DEVICES so that CUDA on this
  /// machine sees the same ("all" unsets it, "none" makes it -1). Empty:
  /// pipec's own values of both pass through.
  std::string gpus;
  /// The step cache (null: none). Step i is looked up in it when
  /// `restore[i]`, and stored into it after it succeeded when `store[i]`
  /// (replacing an entry of the same key when `replace[i]`).
  StepCache* cache = nullptr;
  std::vector<bool> restore, store, replace;
};

/// Checks a --gpus value: "all", "none", or a comma-separated list of GPU
/// indices (0, 1, ...) and UUIDs (GPU-..., MIG-...), each at most once.
/// Returns "" when it is good, else what is wrong.
std::string checkGpuList(llvm::StringRef gpus);

/// The variable whose value tells one step's processes from another's, in
/// whatever session or group they are: every process of a step inherits
/// it, and its value is a folder of the step (below the run directory).
inline constexpr const char* kStepMarkVariable = "PAI_WORKING_DIR";
/// The environment entry "PAI_WORKING_DIR=..." of `step`, or "".
std::string stepEnvironmentMark(const StepPlan& step);

/// Runs the steps of a plan on this machine. Every process a step starts,
/// whatever session or group it moves to, is stopped when the step ends,
/// fails or is interrupted: the process group, the descendants of the
/// step's processes, and what became pipec's (ProcessSet is the subreaper)
/// and carries the step's mark in its environment.
class LocalRunner : public StepRunner {
 public:
  LocalRunner(const RunPlan& plan, FileSystem& fs, ProcessSet& procs,
              Journal* journal, ir::DiagnosticEngine& diags,
              RunObserver& observer, RunnerOptions options);
  ~LocalRunner() override;

  void start(std::size_t step) override;
  Result wait() override;
  /// Queues the layout of `step` for a worker thread, so that the step
  /// starts without delay when a job slot frees.
  void prepare(std::size_t step) override;
  bool interrupted() const override { return interrupt_ != 0; }
  /// The signal that stopped the run, or 0.
  int interruptSignal() const { return interrupt_; }

  const StepReport& report(std::size_t step) const { return reports_[step]; }
  const std::vector<StepReport>& reports() const { return reports_; }

 private:
  struct Proc;
  struct Active;
  enum class Phase : unsigned char { Clone, Venv, WaitVenv, Main };

  /// What is done for a step before it starts: its error, if any.
  struct Prepared {
    std::optional<std::string> error;
  };
  /// Clears (on resume) and lays out the folder of `step`. Thread-safe.
  Prepared setUp(std::size_t step) const;
  /// Restores step `a` from the cache; false when it has to run.
  bool restoreFromCache(Active& a);
  void beginCode(Active& a);
  void beginVenv(Active& a);
  void beginMain(Active& a);
  void onExit(pid_t pid, int status);
  void afterVenv(const std::string& venv);
  bool spawnInto(Active& a, Proc p, const std::string& exe,
                 std::vector<std::string> argv, std::vector<std::string> env);
  std::vector<std::string> environment(const StepPlan& s,
                                       const std::string& venv,
                                       const ir::EnvList& extra) const;
  void stopStep(Active& a, std::uint64_t now);
  /// `sig` to the process group of `p` and to every descendant of `p`.
  void signalProc(const Proc& p, int sig);
  /// `sig` to the adopted processes that carry the mark of `a`.
  void signalLeftovers(const Active& a, int sig);
  /// SIGKILLs the adopted processes of no running step.
  void stopOrphans();
  /// Ends step `a` now if none of its processes runs.
  void maybeComplete(Active& a);
  void complete(Active& a);
  /// The "warning: " lines of a parallel step's job_result.txt: each is
  /// reported; under --strict or --Werror the step fails.
  void parallelWarnings(Active& a);
  void fail(Active& a, ir::DiagKind kind, std::string detail, std::string log);
  void interruptAll(std::uint64_t now);
  void pumpFollow(Active& a);
  int timeoutMs(std::uint64_t now) const;

  const RunPlan& plan_;
  FileSystem& fs_;
  ProcessSet& procs_;
  Journal* journal_;
  ir::DiagnosticEngine& diags_;
  RunObserver& observer_;
  RunnerOptions opts_;
  std::unique_ptr<PortPicker> own_ports_;

  std::map<std::string, std::string> base_env_;
  std::vector<std::string> base_entries_;  ///< base_env_ as "NAME=VALUE"
  std::map<std::size_t, std::unique_ptr<Active>> active_;
  std::unordered_map<pid_t, std::size_t> pid_step_;
  std::deque<Result> done_;
  std::vector<StepReport> reports_;

  struct Venv {
    enum class State : unsigned char { Building, Ready, Failed } state;
    std::string log;
    std::string detail;
    std::vector<std::size_t> waiting;
  };
  std::map<std::string, Venv> venvs_;
  std::unordered_map<std::string, std::string> exe_cache_;
  std::vector<bool> started_;
  std::vector<std::string> marks_;  ///< stepEnvironmentMark() by step

  // Layout ahead of time, on a worker thread (guarded by mu_).
  void layoutWorker();
  /// The layout outcome of `step`: waits for the worker if it is busy with
  /// it, else lays the step out here.
  Prepared takeLayout(std::size_t step);
  struct Layout {
    enum class State : unsigned char { Queued, Busy, Done } state;
    Prepared prepared;
  };
  std::thread worker_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::size_t> queue_;
  std::map<std::size_t, Layout> layouts_;
  bool stop_worker_ = false;
  int interrupt_ = 0;
  int interrupts_seen_ = 0;
};

}  // namespace pipec::runtime
