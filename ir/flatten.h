// Nested pipelines flattened into leaf steps with resolved values and data
// sources.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ir/box.h"
#include "ir/ir.h"
#include "ir/vec_map.h"
#include "llvm/ADT/SmallVector.h"

namespace pipec::ir {

/// Every hyperparameter of a component in declaration order with its value
/// (nullopt: none).
using ParamValues = std::vector<std::pair<const Param*, std::optional<Value>>>;

/// Resolves the hyperparameter values of `c`: `overrides` first; then, when
/// `step` is given, its bindings (literals, or the enclosing pipeline's value
/// of a bound input, looked up in `parent`); then defaults.
ParamValues resolveParams(const Component& c, const Step* step,
                          const std::map<std::string, Value>& overrides,
                          const ParamValues* parent = nullptr);

/// Where a leaf step's input data comes from once nesting is resolved.
struct DataSource {
  enum class Kind : std::uint8_t {
    None,        ///< unbound
    Path,        ///< a local path (absolute) or a URI
    StepOutput,  ///< output `output` of flat step `step`
  };
  Kind kind = Kind::None;
  std::string path;
  bool is_uri = false;
  std::size_t step = 0;
  std::string output;
  /// The declaration this came from, for messages (pipeline.yaml:12:5).
  SMRange range;
  /// The root pipeline's input this data comes from, or empty: what
  /// `--input NAME=PATH` names (else `--input STEP.NAME=PATH`).
  std::string root_input;

  /// The `--input` flag that binds other data here, without `=PATH`.
  std::string inputFlag(llvm::StringRef step, llvm::StringRef input) const {
    return root_input.empty() ? (step + "." + input).str() : root_input;
  }
};

/// A command or parallel step with everything resolved.
struct FlatStep {
  /// Qualified name: "train", or "outer.inner" inside a pipeline component.
  std::string name;
  const Step* step = nullptr;  ///< null when a lone component is the root
  const Component* component = nullptr;
  ParamValues params;
  StringVecMap<DataSource> inputs;  ///< by input port name
  /// Flat indices, sorted; a step has a few, kept inline.
  llvm::SmallVector<std::size_t, 4> deps;
  /// Effective resources and parallel settings: the step's, with settings
  /// bound to pipeline inputs (Step::setting_bindings) set to the inputs'
  /// values in this run.
  JobType job_type = JobType::Command;  ///< effective, as Step::job_type
  Resources resources;
  Box<ParallelSettings> parallel;
  /// Bound settings whose value did not fit (setting, value); the defaults
  /// above stand.
  std::vector<std::pair<std::string, std::string>> rejected_settings;
  /// Per-step overrides from the command line (`--set STEP.NAME=V`) applied.
  SMRange range;
  /// Default outputs (kDefaultOutputs) that a later step or the pipeline
  /// reads, sorted.
  std::vector<std::string> default_outputs;
  /// Some output of `step` is bound to a path (Step::outputs, Kind::Path):
  /// without one, its outputs need not be looked up there.
  bool output_paths = false;
};

struct FlatPipeline {
  std::vector<FlatStep> steps;  ///< a topological order
  /// Root pipeline outputs: name -> (flat step, output).
  std::map<std::string, std::pair<std::size_t, std::string>> outputs;
};

struct FlattenOptions {
  /// `--set NAME=V` for the root's parameters.
  std::map<std::string, Value> root_params;
  /// `--set STEP.NAME=V`, by qualified step name.
  std::map<std::string, std::map<std::string, Value>> step_params;
  /// `--input NAME=PATH` for the root's data inputs (absolute paths).
  std::map<std::string, std::string> root_inputs;
  /// `--input STEP.NAME=PATH`, by qualified step name: the data of one
  /// step's input, whatever it was bound to.
  std::map<std::string, std::map<std::string, std::string>> step_inputs;
  /// Name of the single step when the root is a lone component.
  std::string lone_step_name;
};

/// Flattens `root` (a pipeline, or a lone component that becomes one step).
FlatPipeline flatten(const Component& root, const FlattenOptions& opts);

/// Sets the resource or parallel setting `setting` (as spelled in YAML:
/// "instance_count", "mini_batch_size", "timeout", ...) to `value`. Returns
/// false when the setting is unknown or the value does not fit it.
bool applySetting(llvm::StringRef setting, const Value& value,
                  Resources& resources, ParallelSettings* par,
                  const Component& c);

}  // namespace pipec::ir
