// One `pipec run` from its run directory to its summary: a new or resumed
// run directory, its lock, run.json, the `latest` link, the guardian, the
// journal, the scheduler and the runner.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ir/diagnostics.h"
#include "ir/flatten.h"
#include "ir/ir.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"
#include "runtime/cache.h"
#include "runtime/file_system.h"
#include "runtime/local_runner.h"
#include "runtime/status.h"

namespace pipec::runtime {

/// What a run was last started with, kept in its run.json so that
/// `--resume RUN_DIR` alone rebuilds the same plan.
struct RunArgs {
  std::string file;                 ///< the pipeline or component (absolute)
  std::string entry;                ///< --entry
  std::string root;                 ///< --root (absolute), or empty
  std::vector<std::string> sets;    ///< --set, as given
  std::vector<std::string> inputs;  ///< --input NAME=PATH
  std::vector<std::string> component_paths;  ///< --component-path (absolute)
  std::string python;  ///< an explicit interpreter (resolved), or empty
};

/// The run.json of `run_dir`.
llvm::Expected<RunArgs> readRunArgs(llvm::StringRef run_dir, FileSystem& fs);
/// run.json's text for `args`.
std::string runArgsJson(const RunArgs& args);
/// What a resumed run runs with: with a FILE on the command line, the command
/// line says everything (the interpreter excepted, which stays unless given);
/// without one, the record, where each option given replaces what the record
/// has for it (all its --set, all its --input, ...).
RunArgs resumedArgs(const RunArgs& recorded, const RunArgs& given);

/// "" when `id` can name a run folder, else why not: not empty, at most 255
/// bytes of UTF-8 without control characters or '/', not ".", "..", or
/// "latest" (the link to the last run), not starting with '-'.
std::string checkRunId(llvm::StringRef id);
/// --grace: a number of seconds from 0 to kMaxGraceSeconds, in
/// milliseconds; nothing for anything else (inf, nan, 1e300, words).
std::optional<unsigned> parseGraceSeconds(llvm::StringRef text);
inline constexpr double kMaxGraceSeconds = 86400;

/// Everything about a run that the command line decides, besides RunArgs.
struct RunOptions {
  /// Continue this run (absolute); empty: a new run under `workdir`.
  std::string resume_dir;
  std::string workdir;  ///< new runs go to WORKDIR/runs/ID (absolute)
  std::string run_id;   ///< empty: date-time-salt
  unsigned jobs = 1;
  unsigned grace_ms = 5000;
  /// A parallel step that passes with a warning (no mini-batch succeeded)
  /// fails.
  bool strict = false;
  /// The AIMaster of elasticbatch steps (may be null: such steps then run
  /// without one).
  ElasticBatchMaster* elastic_master = nullptr;
  std::string follow;  ///< a step name (checked by the caller)
  std::string gpus;    ///< a value checkGpuList() accepts, or empty
  bool dry_run = false;
  Verbosity verbosity = Verbosity::Normal;
  bool terminal = false;  ///< live lines on the output
  /// The interpreter asked for (--python, else $PIPEC_PYTHON), or empty.
  std::string python;
  std::string path;             ///< $PATH, where `python` is looked up
  std::string cwd;              ///< where relative names are looked up
  std::string pipec_exe;        ///< this program, for parallel steps
  std::string parallel_engine;  ///< another engine program, or empty
  /// Called once the run's processes are stopped, before the summary, with
  /// the run directory and each step's status name (stepStatusName()) by
  /// step name: where `pipec run` draws the run's graph.
  std::function<void(const std::string& run_dir,
                     const std::map<std::string, std::string>& status)>
      on_done;
  /// The step cache (runtime/README.md, "Step cache"): --no-cache neither
  /// uses nor fills it.
  bool no_cache = false;
  /// --rerun: these steps (names checked by the caller) and everything
  /// downstream of them run, and replace their cache entries.
  std::vector<std::string> rerun;
  /// --cache-only: only these steps may come from the cache (empty: all).
  std::vector<std::string> cache_only;
};

/// One run, in two phases around the front end. open() settles the run
/// directory: a resumed one is locked at once; a new one is named. run()
/// plans, records, lays out and runs the compiled pipeline, and prints the
/// summary. Problems go to `diags`; the progress and summary to `out`.
///
/// One pipec at a time holds a run directory: run() and open() of a resume
/// take `RUN_DIR/lock` (an fcntl lock naming the holder, so a second pipec
/// refuses at once with its pid, and a flock shared with the guardian, so a
/// run killed with kill -9 is not resumed while its guardian still stops
/// what it left). Both locks go with their holders: a lock left by a dead
/// pipec is taken over.
class Run {
 public:
  Run(RunOptions options, FileSystem& fs, ir::DiagnosticEngine& diags,
      llvm::raw_ostream& out);
  ~Run();
  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;

  /// Locks a resumed run directory, or picks a new one; finds the
  /// interpreter. False when it reported an error.
  bool open();
  /// The run directory (absolute), once open.
  const std::string& dir() const { return dir_; }

  /// Runs `flat` (of `root`, with `root_inputs` from --input) and records
  /// `args` in run.json. Returns the exit status: 0 when every step
  /// succeeded, 1 after a failure or an error, 128+N after signal N.
  int run(const ir::Component& root, const ir::FlatPipeline& flat,
          const std::map<std::string, std::string>& root_inputs, RunArgs args);

 private:
  class Lock;
  struct Session;

  bool lock(const char* origin);
  bool prepareDirectory(const RunPlan& plan, RunArgs args);
  int execute(RunPlan& plan);
  void markResumed(const RunPlan& plan, const std::vector<bool>& forced,
                   Session& session);
  /// Whether each step is forced to run (--rerun and its dependants).
  std::vector<bool> forcedSteps(const RunPlan& plan) const;
  /// Reports that the run directory cannot be made or written.
  void failed(ir::DiagKind kind, const std::string& why, const char* origin);

  RunOptions opts_;
  FileSystem& fs_;
  ir::DiagnosticEngine& diags_;
  llvm::raw_ostream& out_;
  std::string dir_, id_;
  std::string cache_dir_;  ///< WORKDIR/cache
  std::string python_;     ///< resolved, or empty: python3
  bool resuming_ = false;
  std::unique_ptr<Lock> lock_;
};

}  // namespace pipec::runtime
