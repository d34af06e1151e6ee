// The source-level AST shared by the YAML and DSL front ends; sema lowers it to
// IR.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "llvm/Support/JSON.h"
#include "llvm/Support/SMLoc.h"

namespace pipec::ir {
struct SettingInfo;
}

namespace pipec::ast {

using llvm::SMRange;

/// A scalar as written: text plus whether it was quoted.
struct Scalar {
  std::string text;
  bool quoted = false;   ///< a quoted or block string: never a number
  bool is_null = false;  ///< `~`, `null`, or nothing
  SMRange range;
};

/// An identifier with its location.
struct Name {
  std::string text;
  SMRange range;
  bool empty() const { return text.empty(); }
};

/// `$<<a.b.c>>` or `${{a.b.c}}`: a path of names.
struct Ref {
  std::vector<Name> path;
  SMRange range;                 ///< the whole reference, delimiters included
  bool azure_form = false;       ///< written as `${{...}}`
  std::string spelling() const;  ///< "a.b.c"
};

/// A piece of a template string.
struct TemplatePart {
  enum class Kind { Text, Ref };
  Kind kind = Kind::Text;
  std::string text;  ///< Kind::Text
  Ref ref;           ///< Kind::Ref
  int group = -1;    ///< index of the enclosing `$[[...]]`, or -1
};

/// A string that may hold bindings (`command`, job input values, ...).
struct TemplateString {
  std::vector<TemplatePart> parts;
  std::string raw;  ///< the string as written, delimiters included
  SMRange range;
  /// Ranges of each `$[[...]]` group, by group index.
  std::vector<SMRange> groups;
  bool hasRefs() const;
  /// The one Ref when the string is exactly one binding and nothing else.
  const Ref* singleRef() const;
};

/// An input, output or parameter declaration.
struct PortDecl {
  enum class Section { Input, Output, Param };
  Section section = Section::Input;
  Name name;
  /// The written type; absent for Azure outputs (uri_folder) and for inline
  /// jobs whose type comes from the binding.
  std::optional<Name> type;
  bool optional = false;
  std::optional<Scalar> default_value;
  std::optional<Scalar> min, max;
  std::vector<Scalar> enum_values;
  SMRange enum_range;
  std::string description;
  /// Pipeline inputs: data given with the declaration (`path:`), its mode.
  std::optional<Scalar> path;
  std::string mode;
  /// Inline jobs: the port is declared by a binding; its type is inferred.
  bool inferred = false;
  SMRange range;
};

/// A job setting as written (`instance_count: 2`, `max_retries 3`): which
/// one of the table in ir/settings.h, its value and its key.
struct Setting {
  const ir::SettingInfo* info = nullptr;
  Scalar value;
  SMRange key;
};

/// The job settings a component or job gives, each at most once (a second
/// one replaces the first), whatever section holds them
/// (`Setting::info->section`). A job that gives none holds nothing.
struct Settings {
  std::vector<Setting> given;

  /// Records `value` for `info`, replacing one given before.
  void set(const ir::SettingInfo& info, Scalar value, SMRange key);
  /// The setting called `name` if it was given.
  const Setting* find(llvm::StringRef name) const;
};

/// `resources:`: its settings are in the owner's `settings`.
struct ResourcesDecl {
  SMRange range;
};

/// Azure `distribution:`; its settings are in the owner's `settings`.
struct DistributionDecl {
  std::optional<Name> type;  ///< pytorch | tensorflow | mpi
  SMRange range;
};

/// The attributes of a parallel job or component that are not settings
/// (those are in the owner's `settings`).
struct ParallelDecl {
  std::optional<TemplateString> input_data;
  std::vector<Scalar> partition_keys;
  SMRange partition_keys_range;
  std::optional<Scalar> entry_script;
  std::optional<Scalar> task_code;
  std::optional<TemplateString> program_arguments;
  std::optional<TemplateString> append_row_to;
};

/// `p`, made first if null. A component or job holds its ParallelDecl by
/// pointer, null unless it gives a parallel attribute or setting, so a step
/// that is not parallel carries nothing for them; an inline job shares its
/// own with its component.
inline ParallelDecl& ensure(std::shared_ptr<ParallelDecl>& p) {
  if (!p) p = std::make_shared<ParallelDecl>();
  return *p;
}

/// The value given to a job input or output.
struct JobValue {
  enum class Kind {
    Empty,     ///< nothing (outputs: default storage)
    Scalar,    ///< a literal without bindings
    Template,  ///< a string with bindings
    Data,      ///< `{type, path, mode}`
  };
  Kind kind = Kind::Empty;
  Scalar scalar;
  TemplateString tmpl;  ///< Kind::Template; Kind::Data: the path when bound
  std::optional<Name> type;
  std::optional<Scalar> path;  ///< Kind::Data with a literal path
  std::string mode;
  SMRange range;
};

struct Component;

/// How a job names its component.
struct ComponentRef {
  enum class Kind {
    None,      ///< no component (inline job)
    Path,      ///< `./train.yml`, `file:./x.yml`, `lib.pipe#name`
    Registry,  ///< `azureml:name:1`, `azureml://registries/...`
    Named,     ///< a component declared in the same DSL file or imported
    Inline,    ///< a mapping written in place
  };
  Kind kind = Kind::None;
  Scalar spelling;
  std::shared_ptr<Component> inline_component;
  SMRange range;
};

/// One job of a pipeline.
struct Job {
  Name name;
  Name
      type;  ///< as written (`command`, `parallel`, `sweep`, ...); may be empty
  ComponentRef component;
  std::vector<std::pair<Name, JobValue>> inputs;
  std::vector<std::pair<Name, JobValue>> outputs;
  ResourcesDecl resources;
  DistributionDecl distribution;
  std::shared_ptr<ParallelDecl> parallel;  ///< see ensure()
  Settings settings;
  std::vector<std::pair<Name, Scalar>> environment_variables;
  llvm::json::Object extra;
  SMRange range;
};

/// A component: command, parallel, or pipeline (a pipeline file is one too).
struct Component {
  enum class Kind { Command, Parallel, Pipeline, Unsupported };
  Kind kind = Kind::Command;
  Name kind_spelling;  ///< the written `type`, for diagnostics
  std::string file;    ///< absolute path of the defining file
  std::optional<Name> name;
  std::optional<Scalar> version;
  std::string display_name;
  std::string description;
  std::optional<Name> job_type;
  std::optional<Scalar> image;
  /// `cache: false`: the step's results are never reused (side effects).
  std::optional<Scalar> cache;
  std::optional<Scalar> code;
  std::optional<TemplateString> command;
  std::vector<PortDecl> inputs;  ///< Azure: scalar inputs are parameters
  std::vector<PortDecl> outputs;
  std::vector<PortDecl> params;
  std::vector<std::pair<Name, Scalar>> environment_variables;
  ResourcesDecl resources;
  DistributionDecl distribution;
  std::shared_ptr<ParallelDecl> parallel;  ///< see ensure()
  Settings settings;
  std::vector<Job> jobs;
  llvm::json::Object extra;
  bool is_inline = false;
  SMRange range;
};

/// `import "x.yaml" as name` / `import std.NAME` in a DSL file.
struct Import {
  Name alias;     ///< the name jobs use
  Scalar target;  ///< a path relative to the file, or "std.NAME"
  bool stdlib = false;
  SMRange range;
};

/// What one source file declares.
struct File {
  std::string path;  ///< absolute
  std::vector<Import> imports;
  std::vector<std::shared_ptr<Component>> components;
  /// The component `pipec compile FILE` means: the only one in a YAML file;
  /// in a DSL file the last pipeline (or the only component).
  std::shared_ptr<Component> main;
};

}  // namespace pipec::ast
