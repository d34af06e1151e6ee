// The diagnostics engine: one registry of kinds, clang-style text and JSON
// output.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/SMLoc.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

namespace pipec::ir {

enum class Severity : std::uint8_t { Error, Warning, Note };

/// Every diagnostic pipec can print. Codes are stable: never renumber.
enum class DiagKind : std::uint16_t {
#define DIAG(NAME, CODE, SEVERITY, FORMAT) NAME,
#include "ir/diagnostic_kinds.def"
#undef DIAG
};

/// Static facts about one diagnostic kind.
struct DiagInfo {
  const char* name;    ///< e.g. "UnknownKey"
  const char* code;    ///< e.g. "W0101"
  Severity severity;   ///< default severity
  const char* format;  ///< fmt format string for the message
};

/// The registry entry of `kind`.
const DiagInfo& diagInfo(DiagKind kind);
/// Every registered kind, in registry order.
llvm::ArrayRef<DiagInfo> allDiagInfos();

/// A note attached to a diagnostic, usually pointing at another location.
struct DiagNote {
  llvm::SMRange range;
  std::string message;
};

/// A suggested replacement of source text.
struct DiagFixIt {
  llvm::SMRange range;
  std::string replacement;
};

/// One diagnostic, fully formatted.
struct Diagnostic {
  DiagKind kind;
  Severity severity;
  llvm::SMRange range;  ///< invalid for diagnostics without a source location
  std::string message;
  std::vector<DiagNote> notes;
  std::vector<DiagFixIt> fixits;
  /// Location for diagnostics outside any source buffer (a command-line
  /// argument, a file that could not be read): printed instead of
  /// file:line:col.
  std::string origin;

  const char* code() const { return diagInfo(kind).code; }
};

/// Receives diagnostics as they are reported.
class DiagnosticConsumer {
 public:
  virtual ~DiagnosticConsumer();
  virtual void handle(const Diagnostic& diag) = 0;
  /// Called once after the last diagnostic (JSON output closes its array here).
  virtual void finish() {}
};

/// A resolved source position, 1-based; the column counts bytes.
struct LineCol {
  std::string file;
  unsigned line = 0;
  unsigned column = 0;
};

/// The line starts of every buffer of a SourceMgr, indexed on first use, so
/// that resolving a location costs O(log lines) even on a file that is one
/// multi-megabyte line.
class LineTable {
 public:
  explicit LineTable(const llvm::SourceMgr& sm) : sm_(sm) {}
  /// `loc` as file:line:col; an empty file when it is invalid or foreign.
  LineCol resolve(llvm::SMLoc loc);
  /// The text of the line that holds `loc` (without its end of line); empty
  /// when `loc` is invalid or foreign.
  llvm::StringRef lineOf(llvm::SMLoc loc);

 private:
  struct Index {
    const char* start = nullptr;
    const char* end = nullptr;
    std::vector<std::uint32_t> line_starts;
  };
  const Index* find(llvm::SMLoc loc);

  const llvm::SourceMgr& sm_;
  std::vector<Index> buffers_;  ///< by buffer id - 1
};

/// Prints clang-style text: `file:line:col: error: message [E0101]`, the
/// source line, a caret under the range, fix-its and notes. Long lines are
/// cut to a window around the caret; bytes that are not printable are shown
/// as '?'.
class TextDiagnosticPrinter : public DiagnosticConsumer {
 public:
  TextDiagnosticPrinter(llvm::raw_ostream& os, const llvm::SourceMgr& sm,
                        bool colors = false);
  void handle(const Diagnostic& diag) override;

 private:
  void print(llvm::SMRange range, Severity severity, const std::string& message,
             llvm::ArrayRef<DiagFixIt> fixits, const std::string& origin);

  llvm::raw_ostream& os_;
  LineTable lines_;
  bool colors_;
};

/// Prints all diagnostics as one JSON array (on finish()).
class JsonDiagnosticPrinter : public DiagnosticConsumer {
 public:
  JsonDiagnosticPrinter(llvm::raw_ostream& os, const llvm::SourceMgr& sm);
  void handle(const Diagnostic& diag) override;
  void finish() override;

 private:
  llvm::raw_ostream& os_;
  LineTable lines_;
  std::vector<std::string> items_;
};

/// Keeps every diagnostic (tests, the language server).
class StoringDiagnosticConsumer : public DiagnosticConsumer {
 public:
  void handle(const Diagnostic& diag) override { diags.push_back(diag); }
  std::vector<Diagnostic> diags;
};

/// Resolves `loc` in `sm`; an empty file when `loc` is invalid or foreign.
LineCol resolveLoc(const llvm::SourceMgr& sm, llvm::SMLoc loc);
/// `file:line:col` for `loc`, or "<unknown>".
std::string formatLoc(const llvm::SourceMgr& sm, llvm::SMLoc loc);

class DiagnosticEngine;

/// Builds one diagnostic; it is emitted when the builder goes out of scope.
class DiagBuilder {
 public:
  DiagBuilder(DiagnosticEngine* engine, Diagnostic diag)
      : engine_(engine), diag_(std::move(diag)) {}
  DiagBuilder(DiagBuilder&& other) noexcept
      : engine_(other.engine_), diag_(std::move(other.diag_)) {
    other.engine_ = nullptr;
  }
  DiagBuilder(const DiagBuilder&) = delete;
  DiagBuilder& operator=(const DiagBuilder&) = delete;
  ~DiagBuilder();

  /// Adds a note at `range` (may be invalid: then a note without location).
  template <typename... Args>
  DiagBuilder& note(llvm::SMRange range, fmt::format_string<Args...> format,
                    Args&&... args) {
    diag_.notes.push_back(
        {range, fmt::format(format, std::forward<Args>(args)...)});
    return *this;
  }
  /// Suggests replacing `range` with `replacement`.
  DiagBuilder& fixit(llvm::SMRange range, std::string replacement) {
    diag_.fixits.push_back({range, std::move(replacement)});
    return *this;
  }
  /// Sets the textual origin for a diagnostic without a source location.
  DiagBuilder& origin(std::string text) {
    diag_.origin = std::move(text);
    return *this;
  }

 private:
  DiagnosticEngine* engine_;
  Diagnostic diag_;
};

/// Formats, counts and forwards diagnostics. Keeps going after errors: callers
/// check errorCount() at the end of a phase.
class DiagnosticEngine {
 public:
  DiagnosticEngine(llvm::SourceMgr& sm, DiagnosticConsumer& consumer)
      : sm_(sm), consumer_(&consumer) {}

  /// Reports `kind` at `range` with the kind's format applied to `args`.
  template <typename... Args>
  DiagBuilder report(llvm::SMRange range, DiagKind kind, const Args&... args) {
    Diagnostic d;
    d.kind = kind;
    d.severity = diagInfo(kind).severity;
    d.range = range;
    d.message = formatMessage(kind, fmt::make_format_args(args...));
    return DiagBuilder(this, std::move(d));
  }
  template <typename... Args>
  DiagBuilder report(llvm::SMLoc loc, DiagKind kind, const Args&... args) {
    return report(llvm::SMRange(loc, loc), kind, args...);
  }

  void emit(Diagnostic diag);

  unsigned errorCount() const { return errors_; }
  unsigned warningCount() const { return warnings_; }
  bool hasErrors() const { return errors_ != 0; }

  /// Promote warnings to errors (`--Werror`).
  void setWarningsAsErrors(bool on) { warnings_as_errors_ = on; }
  /// Suppress warnings entirely (`-w`).
  void setIgnoreWarnings(bool on) { ignore_warnings_ = on; }
  /// Stop forwarding after this many errors (0: unlimited).
  void setErrorLimit(unsigned limit) { error_limit_ = limit; }

  llvm::SourceMgr& sourceMgr() { return sm_; }
  DiagnosticConsumer& consumer() { return *consumer_; }
  void setConsumer(DiagnosticConsumer& c) { consumer_ = &c; }

 private:
  static std::string formatMessage(DiagKind kind, fmt::format_args args);

  llvm::SourceMgr& sm_;
  DiagnosticConsumer* consumer_;
  unsigned errors_ = 0;
  unsigned warnings_ = 0;
  unsigned error_limit_ = 0;
  bool warnings_as_errors_ = false;
  bool ignore_warnings_ = false;
  bool limit_reported_ = false;
};

}  // namespace pipec::ir
