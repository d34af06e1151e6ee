// The values a step's processes see: paths of the container-style tree, the
// PAI_* environment (LANGUAGE.md, "Name-to-environment mangling"), the
// config files, and commands with their bindings lowered.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ir/flatten.h"
#include "ir/ir.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "lowering/shell.h"

namespace pipec::lowering {

using ir::EnvList;

/// Concrete values for one step of one run.
struct StepValues {
  /// Root of the container-style tree: "/ml" in a container, or the local
  /// "<run>/<step>/ml".
  std::string ml_root = "/ml";
  /// Every hyperparameter in declaration order with its value (nullopt: none).
  ir::ParamValues params;
  /// The text of each value in `params` (filled by stepValues(); when it is
  /// not, text() formats the value each time).
  std::vector<std::string> texts;
  std::string text(std::size_t i) const {
    if (i < texts.size()) return texts[i];
    return params[i].second ? params[i].second->toText() : std::string();
  }
  /// text(i) written over `out` (its storage reused).
  void textTo(std::size_t i, std::string& out) const {
    if (i < texts.size())
      out = texts[i];
    else
      out = text(i);
  }
  /// Single-file inputs: the file's name inside its channel folder.
  std::map<std::string, std::string, std::less<>> input_files;
  /// File outputs (`file`/`uri_file`): the file's name inside its channel
  /// folder.
  std::map<std::string, std::string, std::less<>> output_files;
  /// Inputs that have no data (optional and unbound).
  std::map<std::string, bool> unbound_inputs;
};

/// `{root}/input/data/{name}/`, or the file inside it.
std::string inputPath(const StepValues& v, llvm::StringRef name);
/// `{root}/output/{name}/`, or the file inside it for a file output.
std::string outputPath(const StepValues& v, llvm::StringRef name);
/// inputPath() and outputPath() written over `out` (its storage reused).
void inputPathTo(const StepValues& v, llvm::StringRef name, std::string& out);
void outputPathTo(const StepValues& v, llvm::StringRef name, std::string& out);

/// The name of the file a file output `port` of `s` is written to inside
/// its channel folder: the last part of the path the step binds it to when
/// that names a file (`path: ./out/result.csv`), else the output's name.
std::string outputFileName(const ir::FlatStep& s, const ir::Port& port);
/// `{root}/input/config/`, `{root}/usercode/`.
std::string configDir(const StepValues& v);
std::string workingDir(const StepValues& v);
void configDirTo(const StepValues& v, std::string& out);
void workingDirTo(const StepValues& v, std::string& out);

/// `--name value` for every hyperparameter with a value, declaration order,
/// each value shell-quoted (so that `eval set -- "$PAI_USER_ARGS"` gives
/// the words back).
std::string userArgs(const StepValues& v);
void userArgsTo(const StepValues& v, std::string& out);
/// All hyperparameters with a value as one JSON object, `{"a": 1, "b": "x"}`.
std::string hpsJson(const StepValues& v);
void hpsJsonTo(const StepValues& v, std::string& out);

/// `env` sorted by name; of several entries of one name the last stays.
EnvList sortedEnv(EnvList env);

/// Every PAI_* variable of the step, sorted by name.
EnvList buildPaiEnv(const ir::Component& c, const StepValues& v);
/// The names and values of buildPaiEnv() before they are sorted, in the
/// order it makes them (either may be null): the names depend only on
/// the component and which inputs and parameters have values.
void paiEnvParts(const ir::Component& c, const StepValues& v,
                 std::vector<std::string>* names,
                 std::vector<std::string>* values);
/// The values of paiEnvParts(), in its order, each written over the string
/// `next()` returns.
void paiEnvValuesTo(const ir::Component& c, const StepValues& v,
                    llvm::function_ref<std::string&()> next);

/// StepValues for a flat step rooted at `ml_root`: parameters, single-file
/// input names (`is_file(path)` tells whether data bound by path is one
/// file; when it cannot tell, inputs declared `file` are; an upstream file
/// output is one file when `flat` is given), file outputs, unbound inputs.
StepValues stepValues(const ir::FlatStep& s, std::string ml_root,
                      const std::function<std::optional<bool>(llvm::StringRef)>&
                          is_file = nullptr,
                      const ir::FlatPipeline* flat = nullptr);
/// stepValues() written over `v`, its storage reused.
void stepValuesTo(
    const ir::FlatStep& s, llvm::StringRef ml_root,
    const std::function<std::optional<bool>(llvm::StringRef)>& is_file,
    const ir::FlatPipeline* flat, StepValues& v);

/// The environment of every process of `s`, sorted by name: the step's (or a
/// lone component's) environment_variables, then the PAI_* variables for `v`,
/// which win on a clash.
EnvList flatStepEnv(const ir::FlatStep& s, const StepValues& v);

/// Where the value of a binding comes from: an input's path, an output's
/// path, or the text of parameter `param` (an index into StepValues::params).
struct ValueSource {
  enum class Kind : std::uint8_t { Input, Output, Param };
  Kind kind = Kind::Param;
  std::string name;  ///< the input or output
  std::size_t param = 0;
  /// The value for `v`, as templatePieces() gives it.
  std::string value(const StepValues& v) const;
  void valueTo(const StepValues& v, std::string& out) const;
};

/// The pieces of template `t` with values for `v`: `$[[...]]` groups whose
/// values are missing are dropped; each binding is a value with the variable
/// that holds it; run-time tokens stay text. With `sources`, where each
/// value piece's value comes from, in order.
std::vector<CommandPiece> templatePieces(
    const ir::Template& t, const StepValues& v,
    std::vector<ValueSource>* sources = nullptr);

/// The flags bare `$PAI_USER_ARGS` stands for.
std::vector<UserArg> userArgList(const StepValues& v);

}  // namespace pipec::lowering
