// The typed IR: components, pipelines, steps, ports, bindings, resources.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ir/types.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/SMLoc.h"

namespace pipec::ir {

using llvm::SMRange;

/// Environment variables as (name, value) pairs.
using EnvList = std::vector<std::pair<std::string, std::string>>;

/// How a component's processes are started (RUNTIME.md, "Job types").
enum class JobType : std::uint8_t {
  Command,
  TensorFlow,
  PyTorch,
  XGBoost,
  ElasticBatch,
};
llvm::StringRef jobTypeName(JobType t);
std::optional<JobType> parseJobType(llvm::StringRef name);
/// Every job type spelling (for did-you-mean).
llvm::ArrayRef<llvm::StringRef> jobTypeSpellings();

enum class ComponentKind : std::uint8_t { Command, Parallel, Pipeline };
llvm::StringRef componentKindName(ComponentKind k);

/// A string with bindings resolved against a component's interface.
/// `$[[...]]` groups: every piece in group g is dropped when any Input or
/// Param piece of that group has no value.
struct TemplatePiece {
  enum class Kind : std::uint8_t {
    Text,          ///< literal text
    Input,         ///< path of input `text`
    Output,        ///< path of output `text`
    Param,         ///< value of hyperparameter `text`
    RuntimeToken,  ///< `${{name}}` etc., resolved when the job runs
  };
  Kind kind = Kind::Text;
  std::string text;
  int group = -1;
  SMRange range;
};

struct Template {
  std::vector<TemplatePiece> pieces;
  SMRange range;
  bool empty() const { return pieces.empty(); }
};

/// An input or output channel.
struct Port {
  std::string name;
  Type type = Type::Folder;
  bool optional = false;
  std::string description;
  /// For pipeline inputs: the data bound when nothing else is (`path:`).
  std::optional<std::string> default_path;
  std::string mode;  ///< Azure mount mode, kept for backends
  SMRange range;
};

/// A hyperparameter (PAI `parameters`, Azure scalar `inputs`).
struct Param {
  std::string name;
  Type type = Type::String;
  bool optional = false;
  std::optional<Value> default_value;
  std::optional<double> min, max;  ///< range; for strings: length
  std::vector<Value> enum_values;
  std::string description;
  SMRange range;
};

struct Resources {
  std::string instance_type;  ///< "cpu", "gpu" or empty
  std::int64_t instance_count = 1;
  bool multi_instance = false;
  bool multi_gpu = false;
  std::int64_t gpu_count = 0;
  /// Processes per instance (Azure distribution process_count_per_instance).
  std::int64_t process_count_per_instance = 1;
  /// An MPI distribution (`distribution: {type: mpi}`): a command job runs
  /// instance_count x process_count_per_instance ranks, even with one
  /// process per instance.
  bool mpi = false;
  /// TensorFlow roles (job_type tensorflow).
  std::int64_t tf_chief = 0, tf_ps = 0, tf_worker = 0, tf_evaluator = 0;
};

/// Settings of a parallel step, with Azure's defaults.
struct ParallelSettings {
  enum class BatchBy : std::uint8_t { Count, Size, PartitionKeys };
  std::string input_data;  ///< the input port that is split
  BatchBy batch_by = BatchBy::Count;
  std::uint64_t mini_batch_size = 10;  ///< files, or bytes for BatchBy::Size
  /// Files per mini-batch when a table input is an MLTable that only lists
  /// files (known when the step runs): mini_batch_size as written when it
  /// is a count, 10 (Azure's default for files) when it is not given, 0
  /// when it is a size (then files up to that many bytes).
  std::uint64_t mini_batch_files = 10;
  std::vector<std::string> partition_keys;
  std::int64_t max_concurrency_per_instance = 1;
  std::int64_t mini_batch_error_threshold = -1;  ///< -1: never fail
  std::int64_t error_threshold = -1;             ///< failed items; -1: never
  double allowed_failed_percent = 100;
  std::int64_t max_retries = 3;
  std::uint64_t timeout_ms = 60000;  ///< per mini-batch
  std::string logging_level = "INFO";
  std::string entry_script;
  std::string append_row_to;  ///< output port name, or empty
  Template program_arguments;
  std::uint64_t task_overhead_timeout_ms = 30000;
  std::uint64_t progress_update_timeout_ms = 0;  ///< 0: derived at run time
  std::uint64_t first_task_creation_timeout_ms = 600000;
  std::uint64_t resource_monitor_interval_ms = 600000;  ///< 0: off
  bool copy_logs_to_parent = false;
};

llvm::StringRef batchByName(ParallelSettings::BatchBy b);
std::optional<ParallelSettings::BatchBy> parseBatchBy(llvm::StringRef name);

/// Where the value of a step input comes from.
struct Binding {
  enum class Kind : std::uint8_t {
    Literal,      ///< a scalar literal
    ParentInput,  ///< the enclosing pipeline's input `name`
    StepOutput,   ///< output `name` of step `step`
    Path,         ///< a local path (absolute) or a URI
  };
  Kind kind = Kind::Literal;
  std::optional<Value> literal;
  std::string name;
  std::string step;
  std::string path;
  bool is_uri = false;
  std::optional<Type> type;  ///< type written at the binding site, if any
  std::string mode;
  SMRange range;
};

/// Where a step output goes.
struct OutputBinding {
  enum class Kind : std::uint8_t {
    Default,       ///< the run's own storage
    ParentOutput,  ///< the enclosing pipeline's output `name`
    Path,          ///< an explicit local path or URI
  };
  Kind kind = Kind::Default;
  std::string name;
  std::string path;
  bool is_uri = false;
  std::optional<Type> type;
  std::string mode;
  SMRange range;
};

struct Component;

/// One job of a pipeline.
struct Step {
  std::string name;
  const Component* component = nullptr;
  /// The reference as written when it names a registry component
  /// (`azureml:train:1`); empty otherwise. Not part of the IR dump: the
  /// component is (by name and version).
  std::string component_ref;
  std::map<std::string, Binding> inputs;  ///< by input or parameter name
  std::map<std::string, OutputBinding> outputs;
  /// Effective job type: the component's, or the job's `distribution:`.
  JobType job_type = JobType::Command;
  Resources resources;                       ///< effective
  std::optional<ParallelSettings> parallel;  ///< effective, parallel steps
  std::vector<std::pair<std::string, std::string>> environment_variables;
  llvm::json::Object extra;  ///< kept keys (compute, tags, ...)
  /// Settings bound to the enclosing pipeline's inputs (`instance_count:
  /// ${{parent.inputs.nodes}}`): setting name -> input name. The values
  /// above hold the input's default; flattening applies the real value.
  std::map<std::string, std::string> setting_bindings;
  std::vector<std::size_t> deps;  ///< indices of producer steps, sorted
  SMRange range;
};

/// The body of a pipeline component.
struct Pipeline {
  std::vector<Step> steps;              ///< declaration order
  std::vector<std::size_t> topo_order;  ///< a topological order of steps
  const Step* findStep(llvm::StringRef name) const;
};

/// A component: a command, a parallel task, or a pipeline of steps.
struct Component {
  std::string name;  ///< empty for inline components
  std::string version;
  std::string display_name;
  std::string description;
  ComponentKind kind = ComponentKind::Command;
  JobType job_type = JobType::Command;
  std::string image;
  /// Whether `pipec run` may reuse a result of the component's steps
  /// (`cache: false` for steps with side effects).
  bool cache = true;
  /// Absolute local folder or a git URL; empty when the component has none.
  std::string code;
  bool code_is_url = false;
  Template command;
  std::vector<Port> inputs;
  std::vector<Port> outputs;
  std::vector<Param> params;
  std::vector<std::pair<std::string, std::string>> environment_variables;
  Resources resources;
  std::optional<ParallelSettings> parallel;
  std::unique_ptr<Pipeline> body;  ///< ComponentKind::Pipeline
  llvm::json::Object extra;        ///< keys kept for backends
  std::string source_file;         ///< absolute path of the defining file
  bool is_inline = false;
  SMRange range;

  const Port* findInput(llvm::StringRef n) const;
  const Port* findOutput(llvm::StringRef n) const;
  const Param* findParam(llvm::StringRef n) const;
  /// "name@version", "name", or "<inline>".
  std::string displayId() const;
};

/// Which constraint of a parameter a value breaks.
enum class Violation : std::uint8_t { None, Range, Enum };
/// Checks `v` against `p`'s range (length for strings) and enum.
Violation checkConstraints(const Param& p, const Value& v);
/// "1..100", "length 0..8", "one of 'a', 'b'": what `p` accepts.
std::string describeConstraint(const Param& p, Violation v);

/// The outputs every command job has without declaring them (Azure ML):
/// `artifacts`, what the job writes to ./outputs in its working folder, and
/// `default`, a folder holding its ./outputs and ./logs.
inline constexpr std::array<llvm::StringRef, 2> kDefaultOutputs = {"artifacts",
                                                                   "default"};

/// How deep components may nest (a pipeline whose step is a pipeline whose
/// step is ...), the compiled component being level 1. Sema refuses a job
/// whose component would sit deeper, so every walk of the IR (flatten, dump,
/// lowering) recurses at most this far.
constexpr unsigned kMaxComponentNesting = 64;

/// Everything one compilation produced.
struct Module {
  /// Every loaded component (named and inline), in load order. Owned here.
  std::vector<std::unique_ptr<Component>> components;
  /// The compiled file's component (a pipeline file is a pipeline component).
  const Component* root = nullptr;
  /// Directory of the root file: dumped paths are relative to it.
  std::string root_dir;

  Component* add(std::unique_ptr<Component> c) {
    components.push_back(std::move(c));
    return components.back().get();
  }
};

}  // namespace pipec::ir
