// One lowering for every target (ARCHITECTURE.md, "Lowering"): everything a
// leaf step's processes see that is a pure function of the IR, computed
// once. The runtime, the shell backend and the Kubernetes backend fill in
// only what is theirs (where /ml is, addresses and ports, how a process is
// started).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ir/diagnostics.h"
#include "ir/flatten.h"
#include "ir/ir.h"
#include "lowering/topology.h"

namespace pipec::lowering {

enum class StepKind : std::uint8_t { Command, Parallel };

/// A data input of a step.
struct InputData {
  std::string channel;
  ir::Type type = ir::Type::Folder;
  bool optional = false;
  /// Where the data comes from (Kind::None when the input is unbound).
  ir::DataSource source;
  /// What PAI_INPUT_<CH> holds: the channel folder, or the file inside it.
  std::string path;
  /// The data is one file, placed inside the channel folder.
  bool single_file = false;
};

/// An output channel of a step.
struct OutputData {
  std::string channel;
  ir::Type type = ir::Type::Folder;
  /// What PAI_OUTPUT_<CH> holds.
  std::string path;
  /// A local folder the step's output is bound to (`path:` of a job
  /// output), or a folder of the step's own tree (`own_tree`); empty: the
  /// run's own storage.
  std::string target;
  /// A command job's default output a later step reads: `target` is the
  /// folder of the step's `<ml_root>/artifacts` tree it is
  /// (defaultOutputDir()), not a folder of the user's.
  bool own_tree = false;
};

/// What a parallel step runs: the harness over mini-batches of one input.
struct ParallelTask {
  std::string entry_script;
  /// Program arguments as words, values in place (no shell involved).
  std::vector<std::string> program_arguments;
  /// The step's settings with the flags in program_arguments applied.
  ir::ParallelSettings settings;
  std::string input_path;  ///< where the split data is (PAI_INPUT_<CH>)
  ir::Type input_type = ir::Type::Folder;
  /// The file `append_row_to` gathers rows into, or empty.
  std::string append_row_to;
  std::int64_t instance_count = 1;
};

/// One entry of a step's folder layout (RUNTIME.md, "Run directory"): a
/// path relative to the step's root, the folder that holds `ml/` and
/// `logs/` (`<run>/<step>` on this machine, `/` in a container).
struct LayoutEntry {
  enum class Kind : std::uint8_t {
    Dir,   ///< a folder; its parents come earlier in the list
    Link,  ///< a symbolic link at `path` to `target`
  };
  Kind kind = Kind::Dir;
  std::string path;
  /// A link's target: relative to the link's own folder (another step's
  /// output, beside this step's root), or an absolute path.
  std::string target;
  /// The target is a folder outside the step (an output bound to `path:`)
  /// that is made, with its parents, before the link.
  bool make_target = false;
  /// Made once the code is in ml/usercode, and only when the code has
  /// nothing of that name (`./outputs` and `./logs` of a command step).
  bool after_code = false;
};

/// A leaf step, lowered.
struct LoweredStep {
  std::string name;  ///< qualified: "train", "outer.inner"
  llvm::SMRange range;
  std::string location;  ///< "pipeline.yaml:12:5", or empty
  StepKind kind = StepKind::Command;
  ir::JobType job_type = ir::JobType::Command;
  ir::Resources resources;
  std::string component_id;  ///< "train@1.0.0"
  std::string image;
  /// The component allows reusing results (`cache:`).
  bool cache = true;

  std::string ml_root;   ///< "/ml", or where the target puts it
  std::string work_dir;  ///< <ml_root>/usercode: the cwd of every process

  /// What `sh -c` runs (LANGUAGE.md, "Values in commands"); empty for a
  /// parallel step.
  std::string command;
  /// The words the command runs when it needs no shell; empty otherwise.
  std::vector<std::string> argv;
  /// PAI_* and the step's environment_variables, sorted by name.
  ir::EnvList env;
  /// The contents of
  /// <ml_root>/input/config/{hyperparameters,training_job}.json.
  std::string hyperparameters_json;
  std::string training_job_json;
  /// The processes (roles, replicas, ranks); addresses and ports are the
  /// target's.
  std::vector<ProcessSlot> processes;

  std::vector<InputData> inputs;    ///< declaration order
  std::vector<OutputData> outputs;  ///< declaration order
  std::string code;                 ///< a local folder, a git URL, or empty
  bool code_is_url = false;
  std::optional<ParallelTask> task;  ///< parallel steps
  std::vector<std::size_t> deps;     ///< indices of producer steps, sorted
  /// The folders and links of the step's root, parents first: what every
  /// target that lays the tree out on a file system makes (the runtime and
  /// the shell script); the config files and the code come with it.
  std::vector<LayoutEntry> layout;
};

/// What the steps of one pipeline share while they are lowered: each
/// command is lexed once per component and shape, not once per step, and
/// the names of the environment and their order are found once per
/// component and the set of values its steps have. Not thread-safe; lives
/// as long as the IR it was used with.
class LoweringCache {
 public:
  LoweringCache();
  ~LoweringCache();
  LoweringCache(const LoweringCache&) = delete;
  LoweringCache& operator=(const LoweringCache&) = delete;

  struct Impl;
  std::unique_ptr<Impl> impl;
};

struct LoweringOptions {
  /// Whether data bound by local path is one file; nullopt (or no
  /// function): the input's declared type says.
  std::function<std::optional<bool>(llvm::StringRef)> is_file;
  /// Shared by the steps lowered with these options (none: each step
  /// lexes its command alone).
  LoweringCache* cache = nullptr;
  /// Fill in LoweredStep::location (a target that does not show it can
  /// leave it empty).
  bool locations = true;
  /// Fill in LoweredStep::layout (a target that maps the step's folders
  /// another way, as the k8s backend does with mounts, can leave it empty).
  bool layout = true;
};

/// `<ml_root>/artifacts`: what a command step writes to ./outputs and
/// ./logs of its working folder (links to `outputs/` and `logs/` here).
inline std::string artifactsDir(const std::string& ml_root) {
  return ml_root + "/artifacts";
}

/// The folder of the step's `<ml_root>/artifacts` tree that a default
/// output is: `artifacts` what ./outputs leads to, `default` the tree with
/// `outputs/` and `logs/` (docs/azure.md).
inline std::string defaultOutputDir(const std::string& ml_root,
                                    llvm::StringRef channel) {
  return channel == "artifacts" ? artifactsDir(ml_root) + "/outputs"
                                : artifactsDir(ml_root);
}

/// The folders and links of step `s` of `flat` below its root
/// (LoweredStep::layout), written over `out` (its entries' storage
/// reused; `out` may be `s.layout`): for a target that lowered the step
/// with LoweringOptions::layout false and needs the layout of some steps
/// only.
void stepLayoutTo(const ir::FlatPipeline& flat, const LoweredStep& s,
                  std::vector<LayoutEntry>& out);

/// Lowers step `index` of `flat` with its container tree at `ml_root`.
/// Reports what cannot be lowered (settings bound to values that do not fit,
/// values that cannot enter the command safely, bad settings flags in
/// program arguments) to `diags`.
LoweredStep lowerStep(const ir::FlatPipeline& flat, std::size_t index,
                      std::string ml_root, const LoweringOptions& opts,
                      ir::DiagnosticEngine& diags);
/// lowerStep() written over `into`: a target that lowers its steps one at a
/// time passes the same LoweredStep for each, and its strings and vectors
/// keep their storage (with `opts.cache`, so does the lowering's own scratch
/// space).
void lowerStep(const ir::FlatPipeline& flat, std::size_t index,
               llvm::StringRef ml_root, const LoweringOptions& opts,
               ir::DiagnosticEngine& diags, LoweredStep& into);

/// For the targets whose parallel steps split in Python (sh, k8s:
/// stdlib/harness/pipec_split.py): when `s` is a parallel step whose input
/// is a local MLTable folder, reports E1513 (naming `target`) at a YAML
/// construct of its MLTable file that the splitter does not read. False
/// when it reported.
bool checkSplitterMLTable(const LoweredStep& s, llvm::StringRef target,
                          ir::DiagnosticEngine& diags);

/// Reports what keeps a component's command from being lowered safely
/// whatever its values (E1402, E1403), once per component of `m`: what
/// `pipec check` can tell without lowering every step.
void checkCommands(const ir::Module& m, ir::DiagnosticEngine& diags);

/// Every leaf step of `flat`, with /ml as every step's root.
std::vector<LoweredStep> lowerPipeline(const ir::FlatPipeline& flat,
                                       const LoweringOptions& opts,
                                       ir::DiagnosticEngine& diags);

}  // namespace pipec::lowering
