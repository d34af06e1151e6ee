// The diagnostics engine: one registry of kinds, clang-style text and JSON
// output.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/SMLoc.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

namespace pipec::ir {

enum class Severity : std::uint8_t { Error, Warning, Note };

/// Every diagnostic pipec can print, by identity. Codes are stable: never
/// renumber. Reporting takes the typed `diag::NAME` below, not this.
enum class DiagKind : std::uint16_t {
#define DIAG(NAME, CODE, SEVERITY, FORMAT, ...) NAME,
#include "ir/diagnostic_kinds.def"
#undef DIAG
};

/// Static facts about one diagnostic kind.
struct DiagInfo {
  const char* name;   ///< e.g. "UnknownKey"
  const char* code;   ///< e.g. "W0101"
  Severity severity;  ///< default severity
};

#if defined(__cpp_consteval)
#define PIPEC_DIAG_CONSTEVAL consteval
#else
#define PIPEC_DIAG_CONSTEVAL constexpr
#endif

namespace detail {
/// Reached only when a registry format string is wrong; being neither
/// constexpr nor consteval, it stops compilation where it is reached.
void formatStringUsesAnArgumentNotDeclared();
void formatStringLeavesADeclaredArgumentUnused();
void formatStringIsMalformed();
void formatStringHasNoWordsOfItsOwn();

/// Checks that `format` refers to every one of `count` arguments and to no
/// other (fmt checks the specs against the types; it lets unused
/// arguments pass), and that it has a word outside its replacement fields.
constexpr bool checkFormat(std::string_view format, std::size_t count) {
  std::uint64_t used = 0;
  std::size_t next = 0;
  bool words = false;
  for (std::size_t i = 0; i < format.size(); ++i) {
    char c = format[i];
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) words = true;
    if (c == '}') {
      if (i + 1 < format.size() && format[i + 1] == '}') ++i;
      continue;
    }
    if (c != '{') continue;
    if (i + 1 < format.size() && format[i + 1] == '{') {
      ++i;
      continue;
    }
    std::size_t id = 0;
    bool explicit_id = false;
    for (++i; i < format.size() && format[i] >= '0' && format[i] <= '9'; ++i) {
      id = id * 10 + std::size_t(format[i] - '0');
      explicit_id = true;
    }
    if (!explicit_id) id = next++;
    if (id >= count || id >= 64) formatStringUsesAnArgumentNotDeclared();
    used |= std::uint64_t(1) << id;
    while (i < format.size() && format[i] != '}') ++i;
    if (i == format.size()) formatStringIsMalformed();
  }
  for (std::size_t k = 0; k < count; ++k)
    if (!(used & (std::uint64_t(1) << k)))
      formatStringLeavesADeclaredArgumentUnused();
  if (!words) formatStringHasNoWordsOfItsOwn();
  return true;
}
}  // namespace detail

/// A diagnostic kind with the types of its message's arguments, made from
/// its registry entry (`diag::NAME`). The format string is checked against
/// the types when the program is compiled: fmt checks each replacement
/// field's spec against its argument's type, and every declared argument
/// must be used.
template <typename... Params>
class DiagDef {
 public:
  template <std::size_t N>
  PIPEC_DIAG_CONSTEVAL DiagDef(DiagKind kind, const char (&format)[N])
      : kind_(kind), format_(format, N - 1) {
#if defined(__cpp_consteval) && defined(FMT_HAS_CONSTEVAL)
    [[maybe_unused]] fmt::format_string<Params...> checked(format);
#endif
    detail::checkFormat(format_, sizeof...(Params));
  }

  DiagKind kind() const { return kind_; }
  /// The registry's format string (documentation, tests).
  std::string_view formatString() const { return format_; }

  /// The message for `args`: exactly one argument per declared type, each
  /// converted without narrowing, or the call does not compile.
  template <typename... Args>
  std::string message(Args&&... args) const {
    static_assert(sizeof...(Args) == sizeof...(Params),
                  "this diagnostic takes a different number of arguments "
                  "(see its entry in ir/diagnostic_kinds.def)");
    if constexpr (sizeof...(Args) == sizeof...(Params)) {
      constexpr bool convertible =
          (std::is_convertible_v<Args&&, Params> && ...);
      static_assert(convertible,
                    "an argument does not convert to the type its "
                    "diagnostic declares in ir/diagnostic_kinds.def");
      if constexpr (convertible)
        return fmt::vformat(format_, fmt::make_format_args(
                                         Params{std::forward<Args>(args)}...));
      else
        return {};
    } else {
      return {};
    }
  }

 private:
  DiagKind kind_;
  std::string_view format_;
};

/// One typed constant per registry entry: `diag::FileNotFound` is a
/// `DiagDef<Text, Text>`. These are what DiagnosticEngine::report takes.
namespace diag {
/// Argument types a registry entry may declare.
using Text = std::string_view;  ///< names, paths, values as written, reasons
using Int = std::int64_t;       ///< a signed number
using Count = std::uint64_t;    ///< a size, a count, a limit
using Byte = unsigned char;     ///< one byte of the input (`0x{:02X}`)

#define DIAG(NAME, CODE, SEVERITY, FORMAT, ...) \
  inline constexpr DiagDef<__VA_ARGS__> NAME{DiagKind::NAME, FORMAT};
#include "ir/diagnostic_kinds.def"
#undef DIAG
}  // namespace diag

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
    /// The start of every line before `scanned`, and of the line there.
    std::vector<std::uint32_t> line_starts;
    const char* scanned = nullptr;
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

/// How many UTF-16 code units encode `text` (UTF-8): a column in bytes
/// becomes one in UTF-16 as utf16Length(line.take_front(column - 1)). A byte
/// that is not valid UTF-8 counts as one unit (as its U+FFFD would).
unsigned utf16Length(llvm::StringRef text);

/// Resolves `loc` in `sm`; an empty file when `loc` is invalid or foreign.
LineCol resolveLoc(const llvm::SourceMgr& sm, llvm::SMLoc loc);
/// `file:line:col` for `loc`, or "<unknown>".
std::string formatLoc(const llvm::SourceMgr& sm, llvm::SMLoc loc);
/// The same for a location already resolved (LineTable::resolve()).
std::string formatLoc(const LineCol& lc);

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

  /// Reports `kind` (a `diag::NAME`) at `range` (invalid: no location).
  /// The arguments must match the kind's declared types: a wrong count or
  /// type does not compile.
  template <typename... Params, typename... Args>
  DiagBuilder report(llvm::SMRange range, const DiagDef<Params...>& kind,
                     Args&&... args) {
    return DiagBuilder(this, make(range, kind.kind(),
                                  kind.message(std::forward<Args>(args)...)));
  }
  template <typename... Params, typename... Args>
  DiagBuilder report(llvm::SMLoc loc, const DiagDef<Params...>& kind,
                     Args&&... args) {
    return report(llvm::SMRange(loc, loc), kind, std::forward<Args>(args)...);
  }

  /// Reporting by identity does not compile: the typed entry checks the
  /// arguments. Write report(range, diag::NAME, ...).
  template <typename Loc, typename... Args>
  DiagBuilder report(Loc, DiagKind, Args&&...) {
    static_assert(sizeof(Loc) == 0,
                  "report() takes ir::diag::NAME (the typed registry entry), "
                  "not ir::DiagKind::NAME");
    return DiagBuilder(nullptr, Diagnostic{});
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
  static Diagnostic make(llvm::SMRange range, DiagKind kind,
                         std::string message);

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
