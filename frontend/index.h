// What an editor asks about names: every declaration and use of components,
// steps, channels and hyperparameters in a checked file, and completion.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "frontend/session.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringRef.h"

namespace pipec::frontend {

/// A point in a file in both units an editor may count in.
struct Point {
  unsigned line = 0;   ///< 0-based
  unsigned byte = 0;   ///< 0-based column in bytes
  unsigned utf16 = 0;  ///< 0-based column in UTF-16 code units
};

/// A range in one file.
struct Span {
  std::string path;  ///< absolute
  Point start, end;
};

/// Where `range` (a location in `result`) is, or nothing when it is invalid
/// or not in a file the check read. An end in another file is the start.
std::optional<Span> spanOf(const CheckResult& result, llvm::SMRange range);

/// A declared thing.
struct Symbol {
  enum class Kind : std::uint8_t { Component, Step, Input, Output, Param };
  Kind kind = Kind::Input;
  std::string name;
  /// Stable across checks and files: kind, defining file, owning component
  /// and name. Two indexes name one declaration with the same key.
  std::string key;
  std::string container;  ///< the owning component's name ("" for inline)
  Span decl;              ///< the name where it is declared
  /// One line: `param epochs: int = 10 in 1..1000`, `component train(...)`.
  std::string signature;
  std::string description;
  /// The environment variable a channel or hyperparameter of a command or
  /// parallel component becomes (`PAI_HPS_LEARNING_RATE`), else empty.
  std::string env_var;
  /// The default value, when there is one.
  std::string value;
  std::vector<std::string> enum_values;
};

/// One place a symbol's name is written.
struct Occurrence {
  Span span;
  std::size_t symbol = 0;  ///< into SymbolIndex::symbols()
  bool declaration = false;
  /// At a job's argument: the value bound there (literal or binding).
  std::string value;
};

/// A component as completion needs it, kept from the last check that lowered
/// it so that completion works while the text is being edited.
struct ComponentSummary {
  std::string name;
  bool pipeline = false;
  std::string file;
  unsigned first_line = 0, last_line = 0;            ///< 0-based, in `file`
  std::vector<std::size_t> inputs, outputs, params;  ///< symbols
  /// Steps of a pipeline: name and the summary of its component (index into
  /// SymbolIndex::components(), or npos when unknown).
  std::vector<std::pair<std::string, std::size_t>> steps;
};

/// Every symbol declared or used in one file, from one check.
class SymbolIndex {
 public:
  static constexpr std::size_t npos = ~std::size_t(0);

  /// Indexes the file at absolute `path` from `result` (a check of `path`
  /// by `session`, which must not have seen an edit since). Symbols of other
  /// files that `path` uses are included with their declarations.
  static SymbolIndex build(Session& session, const CheckResult& result,
                           llvm::StringRef path);

  const std::vector<Symbol>& symbols() const { return symbols_; }
  const std::vector<Occurrence>& occurrences() const { return occurrences_; }
  const std::vector<ComponentSummary>& components() const {
    return components_;
  }
  /// The occurrence in this file at 0-based `line` and UTF-16 `utf16`
  /// column (an end position touching the name counts), or null.
  const Occurrence* at(unsigned line, unsigned utf16) const;
  /// The symbol with `key`, or npos.
  std::size_t find(llvm::StringRef key) const;
  /// The occurrences of the symbol with `key` in this file.
  std::vector<const Occurrence*> uses(llvm::StringRef key) const;
  /// The component summary named `name`, or npos.
  std::size_t component(llvm::StringRef name) const;
  /// The component whose text holds 0-based `line`, innermost, or npos.
  std::size_t componentAt(unsigned line) const;
  const std::string& path() const { return path_; }

 private:
  friend class IndexBuilder;
  std::string path_;
  std::vector<Symbol> symbols_;
  std::map<std::string, std::size_t> by_key_;
  std::vector<Occurrence> occurrences_;  ///< sorted by start
  std::vector<ComponentSummary> components_;
};

/// One completion proposal.
struct Completion {
  enum class Kind : std::uint8_t {
    Keyword,
    Component,
    Step,
    Input,
    Output,
    Param,
    Key,
    Value,
    Section,
  };
  Kind kind = Kind::Keyword;
  std::string label;
  std::string detail;
  std::string documentation;
};

/// Proposals at byte `offset` of `text` (the file at `path` as the editor
/// has it now), from `index` (the last check that lowered it, possibly of
/// an older text). A `.pipe` file gets keywords, component names and the
/// arguments of a call; YAML gets the keys valid at the cursor and the enum
/// values of a parameter; both get binding paths inside `$<<` and `${{`.
std::vector<Completion> complete(const SymbolIndex& index, llvm::StringRef path,
                                 llvm::StringRef text, std::size_t offset);

/// Calls `on_file` with each YAML (`.yaml`, `.yml`) file under `root`, and
/// `.pipe` file when `with_pipe`, at most `max_depth` levels down, hidden
/// folders and `node_modules` skipped, stopping after `max_entries`
/// directory entries: how editor features look for files nobody opened.
void forEachSourceFile(llvm::StringRef root, unsigned max_depth,
                       unsigned max_entries, bool with_pipe,
                       llvm::function_ref<void(llvm::StringRef)> on_file);

/// The `.pipe` text laid out as `pipec fmt` does, or nothing when it does
/// not parse.
std::optional<std::string> formatPipeText(llvm::StringRef text);

}  // namespace pipec::frontend
