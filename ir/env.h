// The environment and config files each process of a step gets (LANGUAGE.md).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ir/ir.h"

namespace pipec::ir {

using EnvList = std::vector<std::pair<std::string, std::string>>;

/// Concrete values for one step of one run.
struct StepValues {
  /// Root of the container-style tree: "/ml" in a container, or the local
  /// "<run>/<step>/ml".
  std::string ml_root = "/ml";
  /// Every hyperparameter in declaration order with its value (nullopt: none).
  std::vector<std::pair<const Param*, std::optional<Value>>> params;
  /// Single-file inputs: the file's name inside its channel folder.
  std::map<std::string, std::string> input_files;
  /// Inputs that have no data (optional and unbound).
  std::map<std::string, bool> unbound_inputs;
};

/// POSIX shell quoting where needed, as Python's shlex.quote: "a b" -> 'a b',
/// "it's" -> 'it'"'"'s'; safe words stay bare, "" -> ''.
std::string shellQuote(llvm::StringRef s);

/// `{root}/input/data/{name}/`, or the file inside it.
std::string inputPath(const StepValues& v, llvm::StringRef name);
/// `{root}/output/{name}/`.
std::string outputPath(const StepValues& v, llvm::StringRef name);
/// `{root}/input/config/`, `{root}/usercode/`.
std::string configDir(const StepValues& v);
std::string workingDir(const StepValues& v);

/// `--name value` for every hyperparameter with a value, declaration order.
std::string userArgs(const StepValues& v);
/// All hyperparameters with a value as one JSON object, `{"a": 1, "b": "x"}`.
std::string hpsJson(const StepValues& v);

/// Every PAI_* variable of the step, sorted by name.
EnvList buildPaiEnv(const Component& c, const StepValues& v);

/// Expands a template: ports become paths, parameters their values, each
/// shell-quoted when `quote`; `$[[...]]` groups whose values are missing are
/// dropped; run-time tokens are kept as written.
std::string renderTemplate(const Template& t, const Component& c,
                           const StepValues& v, bool quote);

using ParamValues = std::vector<std::pair<const Param*, std::optional<Value>>>;

/// Resolves the hyperparameter values of `c`: `overrides` first; then, when
/// `step` is given, its bindings (literals, or the enclosing pipeline's value
/// of a bound input, looked up in `parent`); then defaults.
ParamValues resolveParams(const Component& c, const Step* step,
                          const std::map<std::string, Value>& overrides,
                          const ParamValues* parent = nullptr);

}  // namespace pipec::ir
