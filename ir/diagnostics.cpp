// The diagnostics engine: registry lookup, counting, text and JSON printers.
#include "ir/diagnostics.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/WithColor.h"

namespace pipec::ir {

namespace {
constexpr DiagInfo kDiagInfos[] = {
#define DIAG(NAME, CODE, SEVERITY, FORMAT) \
  {#NAME, CODE, Severity::SEVERITY, FORMAT},
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

// Prints one message with llvm::SourceMgr when it has a location, else a
// `origin: severity: message` line as clang does for driver errors.
void printOne(llvm::raw_ostream& os, const llvm::SourceMgr& sm,
              llvm::SMRange range, Severity severity,
              const std::string& message, llvm::ArrayRef<DiagFixIt> fixits,
              const std::string& origin, bool colors) {
  if (isInSourceMgr(sm, range.Start)) {
    llvm::SmallVector<llvm::SMRange, 1> ranges;
    if (range.End.isValid() &&
        range.End.getPointer() > range.Start.getPointer())
      ranges.push_back(range);
    llvm::SmallVector<llvm::SMFixIt, 1> llvm_fixits;
    for (const DiagFixIt& f : fixits)
      if (isInSourceMgr(sm, f.range.Start))
        llvm_fixits.emplace_back(f.range, f.replacement);
    llvm::SMDiagnostic d = sm.GetMessage(range.Start, toLlvmKind(severity),
                                         message, ranges, llvm_fixits);
    d.print(nullptr, os, colors);
    return;
  }
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
}  // namespace

const DiagInfo& diagInfo(DiagKind kind) {
  return kDiagInfos[static_cast<std::size_t>(kind)];
}

llvm::ArrayRef<DiagInfo> allDiagInfos() { return kDiagInfos; }

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
  LineCol lc = resolveLoc(sm, loc);
  if (lc.file.empty()) return "<unknown>";
  return fmt::format("{}:{}:{}", lc.file, lc.line, lc.column);
}

DiagnosticConsumer::~DiagnosticConsumer() = default;

DiagBuilder::~DiagBuilder() {
  if (engine_) engine_->emit(std::move(diag_));
}

std::string DiagnosticEngine::formatMessage(DiagKind kind,
                                            fmt::format_args args) {
  return fmt::vformat(diagInfo(kind).format, args);
}

void DiagnosticEngine::emit(Diagnostic diag) {
  if (diag.severity == Severity::Warning) {
    if (ignore_warnings_) return;
    if (warnings_as_errors_) diag.severity = Severity::Error;
  }
  if (diag.severity == Severity::Error) {
    ++errors_;
    if (error_limit_ != 0 && errors_ > error_limit_) {
      if (!limit_reported_) {
        limit_reported_ = true;
        Diagnostic stop;
        stop.kind = DiagKind::TooManyErrors;
        stop.severity = Severity::Error;
        stop.message =
            fmt::format(fmt::runtime(diagInfo(DiagKind::TooManyErrors).format),
                        error_limit_);
        consumer_->handle(stop);
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
    : os_(os), sm_(sm), colors_(colors) {}

void TextDiagnosticPrinter::handle(const Diagnostic& diag) {
  std::string message = fmt::format("{} [{}]", diag.message, diag.code());
  printOne(os_, sm_, diag.range, diag.severity, message, diag.fixits,
           diag.origin, colors_);
  for (const DiagNote& n : diag.notes)
    printOne(os_, sm_, n.range, Severity::Note, n.message, {}, diag.origin,
             colors_);
  os_.flush();
}

JsonDiagnosticPrinter::JsonDiagnosticPrinter(llvm::raw_ostream& os,
                                             const llvm::SourceMgr& sm)
    : os_(os), sm_(sm) {}

namespace {
void addLocation(llvm::json::Object& obj, const llvm::SourceMgr& sm,
                 llvm::SMRange range) {
  LineCol start = resolveLoc(sm, range.Start);
  if (start.file.empty()) return;
  obj["file"] = start.file;
  obj["line"] = start.line;
  obj["column"] = start.column;
  LineCol end = resolveLoc(sm, range.End);
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
  addLocation(obj, sm_, diag.range);
  if (!diag.origin.empty()) obj["origin"] = diag.origin;
  llvm::json::Array notes;
  for (const DiagNote& n : diag.notes) {
    llvm::json::Object note;
    note["message"] = n.message;
    addLocation(note, sm_, n.range);
    notes.push_back(std::move(note));
  }
  obj["notes"] = std::move(notes);
  llvm::json::Array fixits;
  for (const DiagFixIt& f : diag.fixits) {
    llvm::json::Object fix;
    fix["replacement"] = f.replacement;
    addLocation(fix, sm_, f.range);
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
