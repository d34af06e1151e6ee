// The run plan: every decision about a run made before the first process
// starts (paths, links, command lines, environments, parallel specs).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ir/diagnostics.h"
#include "ir/flatten.h"
#include "lowering/step.h"
#include "runtime/cache.h"
#include "runtime/file_system.h"
#include "runtime/parallel_spec.h"

namespace pipec::runtime {

/// How a step's data input reaches `ml/input/data/<channel>`.
struct InputLink {
  std::string channel;
  /// Absolute path of the data: a folder, a file, or the output folder of
  /// an earlier step.
  std::string target;
  /// A single file: the channel is a folder holding one link named like it.
  bool single_file = false;
  /// The producing step when `target` is an upstream output (the link is
  /// then relative, so that a run directory can move).
  std::optional<std::size_t> producer;
  std::string producer_output;
};

using lowering::StepKind;

/// One leaf step: the lowered step (lowering/step.h) with its paths under the
/// run directory, and what only this machine decides.
struct StepPlan : lowering::LoweredStep {
  std::string dir;  ///< <run>/<step>
  std::string logs_dir;

  /// How each bound data input reaches ml/input/data/<channel>.
  std::vector<InputLink> links;

  /// Contents of requirements.txt in a local code folder (empty: none).
  std::string requirements;
  /// The virtual environment requirements.txt and the conda file's pip
  /// packages go into (empty: none).
  std::string venv_dir;
  /// The `pip:` list of the conda file of the step's `environment:`, one
  /// requirement a line (empty: none), and the file it is written to for
  /// pip (<step>/conda-pip.txt).
  std::string conda_pip;
  std::string conda_pip_file;

  /// Parallel steps: the engine's spec (python is settled at launch).
  std::optional<ParallelStepSpec> parallel;
  std::string parallel_spec_path;

  /// The cache key (stepKey()): everything the step's result depends on.
  /// A journal entry counts on resume, and a cache entry is used, only
  /// while it stays the same.
  Digest key;
  /// Parallel steps: the step's part of its mini-batches' keys (stepKey()).
  Digest batch_key;
};

struct RunPlan {
  std::string run_id;
  std::string run_dir;  ///< absolute
  std::vector<StepPlan> steps;
  /// Root pipeline outputs: name -> folder.
  std::vector<std::pair<std::string, std::string>> outputs;
  /// Interpreter for virtual environments and parallel steps.
  std::string python;
  /// <run>/bin, holding python and python3 links to `python`, first on every
  /// step's PATH; empty when the interpreter was not chosen explicitly.
  std::string bin_dir;
  std::string pipec_exe;  ///< this binary, for internal-parallel-step
  /// What every step sees of the GPUs (--gpus, or the variables that pass
  /// through), for the keys.
  std::string gpus;
};

struct PlanOptions {
  std::string run_id;
  std::string run_dir;  ///< absolute
  std::string python = "python3";
  bool python_explicit = false;
  std::string pipec_exe;
  /// Runs parallel steps as `<engine> internal-parallel-step SPEC`
  /// (default: pipec_exe).
  std::string parallel_engine;
  /// `--input` bindings (for messages that say where a path came from).
  std::map<std::string, std::string> root_inputs;
  std::string gpus;  ///< --gpus
  /// Hashes code folders and input data into the keys; null: their paths
  /// stand for them.
  ContentHasher* content = nullptr;
};

/// Plans `flat` (from `root`). Reports every problem found before running
/// (missing input paths, unbound required inputs, URIs, bad bound
/// settings) to `diags`; returns nullopt when there was one.
std::optional<RunPlan> buildPlan(const ir::Component& root,
                                 const ir::FlatPipeline& flat,
                                 const PlanOptions& opts, FileSystem& fs,
                                 ir::DiagnosticEngine& diags);

/// The directory tree of step `s` (RUNTIME.md, "Run directory"): folders,
/// config files, input links, a copy of local code, explicit output links,
/// and the parallel spec. Existing files are replaced.
llvm::Error layoutStep(const RunPlan& plan, const StepPlan& s, FileSystem& fs);

/// The per-run virtual environment for `requirements` (one per distinct
/// file): <run>/venvs/<hash>.
std::string venvDir(const RunPlan& plan, llvm::StringRef requirements);

/// A git URL as `git clone` takes it (`git+https://x` -> `https://x`).
std::string gitCloneUrl(llvm::StringRef url);

}  // namespace pipec::runtime
