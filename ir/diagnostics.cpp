// The diagnostics engine: registry lookup, counting, text and JSON printers.
#include "ir/diagnostics.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "llvm/Support/JSON.h"
#include "llvm/Support/WithColor.h"

namespace pipec::ir {

namespace {
constexpr DiagInfo kDiagInfos[] = {
#define DIAG(NAME, CODE, SEVERITY, FORMAT, ...) \
  {#NAME, CODE, Severity::SEVERITY},
#include "ir/diagnostic_kinds.def"
#undef DIAG
};

llvm::SourceMgr::DiagKind toLlvmKind(Severity s) {
  switch (s) {
    case Severity::Error:
      return llvm::SourceMgr::DK_Error;
    case Severity::Warning:
      return llvm::SourceMgr::DK_Warning;
    case Severity::Note:
      return llvm::SourceMgr::DK_Note;
  }
  return llvm::SourceMgr::DK_Error;
}

const char* severityName(Severity s) {
  switch (s) {
    case Severity::Error:
      return "error";
    case Severity::Warning:
      return "warning";
    case Severity::Note:
      return "note";
  }
  return "error";
}

bool isInSourceMgr(const llvm::SourceMgr& sm, llvm::SMLoc loc) {
  return loc.isValid() && sm.FindBufferContainingLoc(loc) != 0;
}

// `origin: severity: message`, as clang prints driver errors.
void printWithoutLocation(llvm::raw_ostream& os, Severity severity,
                          const std::string& message, const std::string& origin,
                          bool colors) {
  llvm::StringRef prefix = origin.empty() ? "pipec" : llvm::StringRef(origin);
  if (colors) os.changeColor(llvm::raw_ostream::SAVEDCOLOR, true);
  os << prefix << ": ";
  if (colors) {
    auto color = severity == Severity::Error     ? llvm::raw_ostream::RED
                 : severity == Severity::Warning ? llvm::raw_ostream::MAGENTA
                                                 : llvm::raw_ostream::BLACK;
    os.changeColor(color, true);
  }
  os << severityName(severity) << ": ";
  if (colors) os.resetColor();
  os << message << "\n";
}

// Source bytes shown around the caret when a line is too long to print.
constexpr std::ptrdiff_t kLeadBytes = 64;
constexpr std::ptrdiff_t kWindowBytes = 192;

bool isContinuation(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

// One printed column: a code point, or '?' for a byte that is not printable.
struct Cell {
  const char* at;
  llvm::StringRef text;
};

std::vector<Cell> cellsOf(const char* from, const char* to) {
  std::vector<Cell> cells;
  for (const char* p = from; p < to;) {
    auto c = static_cast<unsigned char>(*p);
    if (c >= 0x20 && c < 0x7F) {
      cells.push_back({p, llvm::StringRef(p, 1)});
      ++p;
      continue;
    }
    if (c == '\t') {
      cells.push_back({p, " "});
      ++p;
      continue;
    }
    std::size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    bool valid = n != 0 && c <= 0xF4 && std::size_t(to - p) >= n;
    for (std::size_t i = 1; valid && i < n; ++i) valid = isContinuation(p[i]);
    if (valid) {
      cells.push_back({p, llvm::StringRef(p, n)});
      p += n;
    } else {
      cells.push_back({p, "?"});
      ++p;
    }
  }
  return cells;
}

}  // namespace

const DiagInfo& diagInfo(DiagKind kind) {
  return kDiagInfos[static_cast<std::size_t>(kind)];
}

llvm::ArrayRef<DiagInfo> allDiagInfos() { return kDiagInfos; }

unsigned utf16Length(llvm::StringRef text) {
  unsigned units = 0;
  for (std::size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    std::size_t n = c < 0x80    ? 1
                    : c >= 0xF0 ? 4
                    : c >= 0xE0 ? 3
                    : c >= 0xC2 ? 2
                                : 0;
    bool valid = n != 0 && c <= 0xF4 && i + n <= text.size();
    for (std::size_t k = 1; valid && k < n; ++k)
      valid = isContinuation(text[i + k]);
    if (!valid) n = 1;
    units += valid && n == 4 ? 2 : 1;
    i += n;
  }
  return units;
}

LineCol resolveLoc(const llvm::SourceMgr& sm, llvm::SMLoc loc) {
  LineCol lc;
  if (!isInSourceMgr(sm, loc)) return lc;
  unsigned buf = sm.FindBufferContainingLoc(loc);
  lc.file = sm.getMemoryBuffer(buf)->getBufferIdentifier().str();
  auto [line, col] = sm.getLineAndColumn(loc, buf);
  lc.line = line;
  lc.column = col;
  return lc;
}

std::string formatLoc(const llvm::SourceMgr& sm, llvm::SMLoc loc) {
  return formatLoc(resolveLoc(sm, loc));
}

std::string formatLoc(const LineCol& lc) {
  if (lc.file.empty()) return "<unknown>";
  // As fmt::format("{}:{}:{}"), without parsing a format per location (the
  // sh target names every step's).
  char buf[24];
  std::string out;
  out.reserve(lc.file.size() + 2 * sizeof buf);
  out += lc.file;
  for (unsigned n : {lc.line, lc.column}) {
    out += ':';
    auto r = std::to_chars(buf, buf + sizeof buf, n);
    out.append(buf, std::size_t(r.ptr - buf));
  }
  return out;
}

const LineTable::Index* LineTable::find(llvm::SMLoc loc) {
  if (!loc.isValid()) return nullptr;
  unsigned id = sm_.FindBufferContainingLoc(loc);
  if (id == 0) return nullptr;
  if (buffers_.size() < id) buffers_.resize(id);
  Index& ix = buffers_[id - 1];
  const llvm::MemoryBuffer* mb = sm_.getMemoryBuffer(id);
  // The SourceMgr may have been made again since (a Session after an edit).
  if (ix.start != mb->getBufferStart() || ix.end != mb->getBufferEnd()) {
    ix.line_starts.clear();
    ix.start = mb->getBufferStart();
    ix.end = mb->getBufferEnd();
    ix.line_starts.push_back(0);
    ix.scanned = ix.start;
  }
  // Lines are indexed as far as asked: up to the first line that starts
  // after `loc`, or the end (a warning near the top of a large file reads
  // a few lines, not the whole file).
  const char* p = loc.getPointer();
  while (ix.scanned != ix.end && ix.scanned <= p) {
    const void* nl =
        std::memchr(ix.scanned, '\n', std::size_t(ix.end - ix.scanned));
    if (!nl) {
      ix.scanned = ix.end;
      break;
    }
    ix.scanned = static_cast<const char*>(nl) + 1;
    ix.line_starts.push_back(std::uint32_t(ix.scanned - ix.start));
  }
  return &ix;
}

LineCol LineTable::resolve(llvm::SMLoc loc) {
  LineCol lc;
  const Index* ix = find(loc);
  if (!ix) return lc;
  auto offset = std::uint32_t(loc.getPointer() - ix->start);
  auto it =
      std::upper_bound(ix->line_starts.begin(), ix->line_starts.end(), offset);
  std::size_t line = std::size_t(it - ix->line_starts.begin());
  lc.file = sm_.getMemoryBuffer(sm_.FindBufferContainingLoc(loc))
                ->getBufferIdentifier()
                .str();
  lc.line = unsigned(line);
  lc.column = unsigned(offset - ix->line_starts[line - 1] + 1);
  return lc;
}

llvm::StringRef LineTable::lineOf(llvm::SMLoc loc) {
  const Index* ix = find(loc);
  if (!ix) return {};
  auto offset = std::uint32_t(loc.getPointer() - ix->start);
  auto it =
      std::upper_bound(ix->line_starts.begin(), ix->line_starts.end(), offset);
  const char* begin = ix->start + *(it - 1);
  const char* end = it == ix->line_starts.end() ? ix->end : ix->start + *it - 1;
  llvm::StringRef line(begin, std::size_t(end - begin));
  return line.rtrim("\r");
}

DiagnosticConsumer::~DiagnosticConsumer() = default;

DiagBuilder::~DiagBuilder() {
  if (engine_) engine_->emit(std::move(diag_));
}

Diagnostic DiagnosticEngine::make(llvm::SMRange range, DiagKind kind,
                                  std::string message) {
  Diagnostic d;
  d.kind = kind;
  d.severity = diagInfo(kind).severity;
  d.range = range;
  d.message = std::move(message);
  return d;
}

// Registry entries are checked while compiling; these are never called.
namespace detail {
void formatStringUsesAnArgumentNotDeclared() { std::abort(); }
void formatStringLeavesADeclaredArgumentUnused() { std::abort(); }
void formatStringIsMalformed() { std::abort(); }
void formatStringHasNoWordsOfItsOwn() { std::abort(); }
}  // namespace detail

namespace {
// Names in messages come from the input: show control characters as escapes
// so that a message stays one line.
void escapeControls(std::string& text) {
  auto bad = [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7F;
  };
  if (std::none_of(text.begin(), text.end(), bad)) return;
  std::string out;
  for (char c : text) {
    if (!bad(c)) {
      out += c;
      continue;
    }
    switch (c) {
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\0':
        out += "\\0";
        break;
      default:
        out += fmt::format("\\x{:02X}", static_cast<unsigned char>(c));
    }
  }
  text = std::move(out);
}

// Messages are UTF-8 text; command-line arguments quoted in them need not
// be: bytes that are not UTF-8 become U+FFFD.
void sanitize(std::string& text) {
  escapeControls(text);
  if (!llvm::json::isUTF8(text)) text = llvm::json::fixUTF8(text);
}
}  // namespace

void DiagnosticEngine::emit(Diagnostic diag) {
  sanitize(diag.message);
  for (DiagNote& n : diag.notes) sanitize(n.message);
  if (diag.severity == Severity::Warning) {
    if (ignore_warnings_) return;
    if (warnings_as_errors_) diag.severity = Severity::Error;
  }
  if (diag.severity == Severity::Error) {
    ++errors_;
    if (error_limit_ != 0 && errors_ > error_limit_) {
      if (!limit_reported_) {
        limit_reported_ = true;
        consumer_->handle(make(llvm::SMRange(), DiagKind::TooManyErrors,
                               diag::TooManyErrors.message(error_limit_)));
      }
      return;
    }
  } else if (diag.severity == Severity::Warning) {
    ++warnings_;
  }
  consumer_->handle(diag);
}

TextDiagnosticPrinter::TextDiagnosticPrinter(llvm::raw_ostream& os,
                                             const llvm::SourceMgr& sm,
                                             bool colors)
    : os_(os), lines_(sm), colors_(colors) {}

void TextDiagnosticPrinter::handle(const Diagnostic& diag) {
  std::string message = fmt::format("{} [{}]", diag.message, diag.code());
  print(diag.range, diag.severity, message, diag.fixits, diag.origin);
  for (const DiagNote& n : diag.notes)
    print(n.range, Severity::Note, n.message, {}, diag.origin);
  os_.flush();
}

void TextDiagnosticPrinter::print(llvm::SMRange range, Severity severity,
                                  const std::string& message,
                                  llvm::ArrayRef<DiagFixIt> fixits,
                                  const std::string& origin) {
  LineCol lc = lines_.resolve(range.Start);
  if (lc.file.empty()) {
    printWithoutLocation(os_, severity, message, origin, colors_);
    return;
  }
  llvm::SMDiagnostic(fmt::format("{}:{}:{}", lc.file, lc.line, lc.column),
                     toLlvmKind(severity), message)
      .print(nullptr, os_, colors_);

  // The shown part of the line: all of it, or a window around the caret.
  llvm::StringRef line = lines_.lineOf(range.Start);
  const char* caret = range.Start.getPointer();
  const char* from = line.begin();
  const char* to = line.end();
  if (caret - from > kLeadBytes) {
    from = caret - kLeadBytes;
    while (from < caret && isContinuation(*from)) ++from;
  }
  if (to - from > kWindowBytes) {
    to = from + kWindowBytes;
    while (to > caret && to < line.end() && isContinuation(*to)) --to;
  }
  bool cut_left = from > line.begin(), cut_right = to < line.end();
  std::vector<Cell> cells = cellsOf(from, to);
  std::size_t lead = cut_left ? 3 : 0;
  auto columnOf = [&](const char* p) {
    std::size_t i = 0;
    while (i < cells.size() && cells[i].at < p) ++i;
    return lead + i;
  };

  std::string text = cut_left ? "..." : "";
  for (const Cell& c : cells) text += c.text.str();
  if (cut_right) text += "...";
  std::string marks(lead + cells.size() + 1, ' ');
  const char* end = range.End.isValid() ? range.End.getPointer() : caret;
  for (std::size_t i = 0; i < cells.size(); ++i)
    if (cells[i].at >= caret && cells[i].at < end) marks[lead + i] = '~';
  marks[columnOf(caret)] = '^';
  marks.erase(marks.find_last_not_of(' ') + 1);
  std::string fix_line;
  for (const DiagFixIt& f : fixits) {
    const char* at = f.range.Start.getPointer();
    if (!at || at < from || at > to ||
        f.replacement.find('\n') != std::string::npos)
      continue;
    std::size_t col = columnOf(at);
    if (fix_line.size() > col) continue;  // overlaps the previous fix-it
    fix_line.resize(col, ' ');
    fix_line += f.replacement;
  }

  os_ << text << "\n";
  if (colors_) os_.changeColor(llvm::raw_ostream::GREEN, true);
  os_ << marks << "\n";
  if (colors_) os_.resetColor();
  if (!fix_line.empty()) {
    if (colors_) os_.changeColor(llvm::raw_ostream::GREEN, false);
    os_ << fix_line << "\n";
    if (colors_) os_.resetColor();
  }
}

JsonDiagnosticPrinter::JsonDiagnosticPrinter(llvm::raw_ostream& os,
                                             const llvm::SourceMgr& sm)
    : os_(os), lines_(sm) {}

namespace {
void addLocation(llvm::json::Object& obj, LineTable& lines,
                 llvm::SMRange range) {
  LineCol start = lines.resolve(range.Start);
  if (start.file.empty()) return;
  obj["file"] = start.file;
  obj["line"] = start.line;
  obj["column"] = start.column;
  LineCol end = lines.resolve(range.End);
  if (!end.file.empty() && range.End.getPointer() > range.Start.getPointer()) {
    obj["end_line"] = end.line;
    obj["end_column"] = end.column;
  }
}
}  // namespace

void JsonDiagnosticPrinter::handle(const Diagnostic& diag) {
  llvm::json::Object obj;
  obj["severity"] = severityName(diag.severity);
  obj["code"] = diag.code();
  obj["kind"] = diagInfo(diag.kind).name;
  obj["message"] = diag.message;
  addLocation(obj, lines_, diag.range);
  if (!diag.origin.empty()) obj["origin"] = diag.origin;
  llvm::json::Array notes;
  for (const DiagNote& n : diag.notes) {
    llvm::json::Object note;
    note["message"] = n.message;
    addLocation(note, lines_, n.range);
    notes.push_back(std::move(note));
  }
  obj["notes"] = std::move(notes);
  llvm::json::Array fixits;
  for (const DiagFixIt& f : diag.fixits) {
    llvm::json::Object fix;
    fix["replacement"] = f.replacement;
    addLocation(fix, lines_, f.range);
    fixits.push_back(std::move(fix));
  }
  obj["fixits"] = std::move(fixits);
  std::string text;
  llvm::raw_string_ostream ss(text);
  ss << llvm::json::Value(std::move(obj));
  items_.push_back(std::move(ss.str()));
}

void JsonDiagnosticPrinter::finish() {
  os_ << "[";
  for (std::size_t i = 0; i < items_.size(); ++i)
    os_ << (i ? ",\n " : "") << items_[i];
  os_ << "]\n";
  os_.flush();
  items_.clear();
}

}  // namespace pipec::ir
