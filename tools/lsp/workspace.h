// The LSP-agnostic core of the language server: open documents over one
// frontend Session, checked on demand, with their diagnostics and symbol
// indexes in editor coordinates.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "frontend/index.h"
#include "frontend/session.h"
#include "ir/diagnostics.h"

namespace pipec::lsp {

/// One diagnostic of one document, its locations resolved.
struct DocDiagnostic {
  frontend::Span span;  ///< in the document (start of file when unlocated)
  ir::Severity severity = ir::Severity::Error;
  std::string code;
  std::string message;
  /// Notes with a location (any file), and those without one.
  std::vector<std::pair<frontend::Span, std::string>> related;
  std::vector<std::string> notes;
  /// Replacements in this document that fix it.
  std::vector<std::pair<frontend::Span, std::string>> fixits;
};

/// What the last check of a document gave.
struct DocState {
  std::int64_t version = -1;  ///< of the text checked
  std::vector<DocDiagnostic> diagnostics;
  /// From the last check that lowered the file (it may be older than
  /// `version` while the text does not parse).
  std::shared_ptr<const frontend::SymbolIndex> index;
  std::int64_t index_version = -1;  ///< the text version `index` is of
  /// The last check, when it lowered the file and is not indexed yet.
  std::shared_ptr<const frontend::CheckResult> unindexed;
  std::uint64_t unindexed_edits = 0;  ///< Workspace edits when it was made
  std::uint64_t checks = 0;           ///< how many times this was checked
  /// Every file the check read (imports, components used).
  std::set<std::string> reads;
};

/// Documents and their checks. Used by one thread (the server's worker).
class Workspace {
 public:
  explicit Workspace(frontend::SessionOptions options = {});

  /// `path` now reads as `text` (an open editor buffer) at `version`.
  void setText(const std::string& path, std::string text, std::int64_t version);
  /// The editor closed `path`: it reads from disk again.
  void close(const std::string& path);
  /// `path` changed on disk.
  void changedOnDisk(const std::string& path);

  /// What check() brings up to date besides the diagnostics.
  enum class Need {
    Diagnostics,   ///< the diagnostics only; the index waits
    IndexIfReady,  ///< also the index, if the Session saw no edit since
    Index,         ///< also the index (checking again if need be)
  };
  /// Checks `path` when its text changed since the last check; returns its
  /// state (checked or not). `error` is set when the check failed inside
  /// pipec (an IR that does not verify). The symbol index of a check is
  /// built when it is first needed: diagnostics do not wait for it.
  const DocState& check(const std::string& path, std::string* error = nullptr,
                        Need need = Need::Index);
  /// The last state of `path`, or null if never checked.
  const DocState* state(const std::string& path) const;
  /// The text of an open document (empty when not open).
  const std::string& text(const std::string& path) const;
  bool isOpen(const std::string& path) const { return docs_.count(path); }
  /// Open documents whose last check read `path` (other than `path`).
  std::vector<std::string> dependents(const std::string& path) const;
  /// Every open document's path.
  std::vector<std::string> open() const;

 private:
  struct Doc {
    std::string text;
    std::int64_t version = 0;
  };
  frontend::Session session_;
  std::map<std::string, Doc> docs_;
  std::map<std::string, DocState> states_;
  std::uint64_t edits_ = 0;  ///< texts set, closed or changed on disk
};

}  // namespace pipec::lsp
