// The contract between the scheduler and the parallel-step engine: one JSON
// file per parallel step.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "ir/ir.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

namespace pipec::runtime {

/// Everything a parallel step needs to run, resolved by the scheduler.
/// The scheduler writes it to `<step>/parallel_step.json` and runs
/// `pipec internal-parallel-step <that file>` as the step's process, in the
/// step's own process group. Exit 0: the step passed; 1: it failed (the
/// engine wrote `logs/job_result.txt` saying why); anything else: the engine
/// itself broke.
struct ParallelStepSpec {
  std::string step_name;  ///< qualified step name
  std::string location;   ///< "pipeline.yaml:12:5", for messages
  std::string python;     ///< interpreter for the worker harness
  std::string code_dir;   ///< the step's ml/usercode (cwd of workers)
  std::string entry_script;
  /// program_arguments, rendered and split into words.
  std::vector<std::string> program_arguments;
  std::string input_path;  ///< the data `input_data` names (local path)
  ir::Type input_type = ir::Type::Folder;
  ir::ParallelSettings settings;
  std::int64_t instance_count = 1;
  /// Absolute file that `append_row_to` writes, or empty.
  std::string append_row_to;
  /// The environment of every worker process (PAI_* and the step's
  /// environment_variables), sorted by name.
  std::vector<std::pair<std::string, std::string>> env;
  std::string logs_dir;   ///< the step's logs/
  std::string state_dir;  ///< journal and temporary results; kept for --resume
  bool resume = false;    ///< continue from the journal in state_dir
  /// The step cache (WORKDIR/cache) for mini-batch results, or empty: a
  /// mini-batch whose items and step part (`batch_cache_key`, hex: see
  /// runtime::stepKey) are unchanged is taken from it (`batch_cache_use`),
  /// and the results of this run are stored in it (`batch_cache_store`).
  std::string batch_cache_dir;
  std::string batch_cache_key;
  bool batch_cache_use = false;
  bool batch_cache_store = false;
};

llvm::json::Value toJson(const ParallelStepSpec& spec);
llvm::Expected<ParallelStepSpec> parallelStepSpecFromJson(
    const llvm::json::Value& v);

/// Writes `spec` to `path` atomically (temporary file + rename).
llvm::Error writeParallelStepSpec(const ParallelStepSpec& spec,
                                  llvm::StringRef path);
llvm::Expected<ParallelStepSpec> readParallelStepSpec(llvm::StringRef path);

}  // namespace pipec::runtime
