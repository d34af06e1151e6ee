// Table inputs (CSV, JSON Lines, MLTable folders): mini-batches of rows cut at
// row boundaries once they reach the size, or one per distinct key tuple.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <unordered_map>

#include "ir/yaml_reader.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/GlobPattern.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SHA1.h"
#include "runtime/parallel/external_sort.h"
#include "runtime/parallel/fd_io.h"
#include "runtime/parallel/file_list.h"
#include "runtime/parallel/source_impl.h"
#include "runtime/parallel/table.h"

namespace pipec::runtime::parallel {

namespace {

bool isJsonLinesName(llvm::StringRef name) {
  return name.endswith_insensitive(".jsonl") ||
         name.endswith_insensitive(".ndjson") ||
         name.endswith_insensitive(".json");
}

bool isTableName(llvm::StringRef name) {
  return isJsonLinesName(name) || name.endswith_insensitive(".csv") ||
         name.endswith_insensitive(".tsv");
}

TableFile tableFileFor(std::string path, std::string rel) {
  TableFile t;
  t.json_lines = isJsonLinesName(path);
  if (llvm::StringRef(path).endswith_insensitive(".tsv")) t.sep = '\t';
  t.path = std::move(path);
  t.rel = std::move(rel);
  return t;
}

bool bad(Problem& problem, const std::string& file, std::string why) {
  problem = {ir::diag::ParallelTableInvalid, file, std::move(why)};
  return false;
}

// Sorted files under `dir` (relative to `base` in rel), those with a table
// extension only when `tables_only`.
llvm::Error filesUnder(const std::string& dir, const std::string& rel_prefix,
                       bool tables_only, const std::string& scratch,
                       std::vector<TableFile>& out) {
  ExternalSorter sorter(scratch, 16u << 20);
  llvm::Error e = listFiles(dir, [&](llvm::StringRef rel) -> llvm::Error {
    if (tables_only && !isTableName(rel)) return llvm::Error::success();
    if (llvm::sys::path::filename(rel) == "MLTable")
      return llvm::Error::success();
    return sorter.add(rel);
  });
  if (!e) e = sorter.finish();
  if (e) return e;
  std::string rel;
  while (sorter.next(rel))
    out.push_back(tableFileFor(dir + "/" + rel, rel_prefix + rel));
  return llvm::Error::success();
}

// Where the problems of one MLTable file go: kept (the first error becomes
// the problem's text, so job_result.txt and pipec run's summary say it)
// and passed on to the caller's diagnostics when given (the engine's,
// printed to the step's log with a caret; its SourceMgr gets the file).
struct MLTableContext : ir::DiagnosticConsumer {
  std::string file;
  llvm::SourceMgr local_sm;
  llvm::SourceMgr* sm_ = nullptr;
  ir::DiagnosticConsumer* forward = nullptr;
  std::vector<ir::Diagnostic> stored;
  std::optional<ir::DiagnosticEngine> engine;
  ir::DiagnosticEngine* diags = nullptr;

  MLTableContext(std::string f, ir::DiagnosticEngine* outer)
      : file(std::move(f)) {
    sm_ = outer ? &outer->sourceMgr() : &local_sm;
    if (outer) forward = &outer->consumer();
    engine.emplace(*sm_, *this);
    diags = &*engine;
  }
  void handle(const ir::Diagnostic& d) override {
    stored.push_back(d);
    if (forward) forward->handle(d);
  }
  llvm::SourceMgr& sm() { return *sm_; }
  // The problem after errors were reported: the first, with its place.
  bool fail(Problem& problem) {
    std::string why = "see the errors reported at it";
    for (const ir::Diagnostic& d : stored)
      if (d.severity == ir::Severity::Error) {
        ir::LineCol lc = ir::resolveLoc(sm(), d.range.Start);
        why = std::to_string(lc.line) + ":" + std::to_string(lc.column) + ": " +
              d.message;
        break;
      }
    problem = {ir::diag::MLTableInvalid, file, why};
    return false;
  }
};

// Reads an MLTable file (through the one YAML reader and the MLTable reader
// of ir/, so `pipec check` and the engine say the same) and resolves its
// paths to files, each with the values of its path columns.
bool readMLTable(const std::string& dir, const std::string& scratch,
                 ir::DiagnosticEngine* outer, TableInput& in,
                 Problem& problem) {
  namespace mt = ir::mltable;
  std::string file = dir + "/MLTable";
  MLTableContext cx(file, outer);
  auto buf = llvm::MemoryBuffer::getFile(file, /*IsText=*/false,
                                         /*RequiresNullTerminator=*/false);
  if (!buf) {
    problem = {ir::diag::ParallelTableInvalid, file,
               "cannot read it: " + buf.getError().message()};
    return false;
  }
  unsigned id = cx.sm().AddNewSourceBuffer(std::move(*buf), llvm::SMLoc());
  std::optional<mt::MLTable> table = mt::parse(cx.sm(), id, *cx.diags);
  if (!table) return cx.fail(problem);
  TableFile proto;
  proto.json_lines = table->format == mt::MLTable::Format::JsonLines;
  proto.sep = table->delimiter;
  proto.header = TableFile::Header(int(table->header));
  if (!table->encoding.empty()) {
    std::optional<TextEncoding> e = parseEncoding(table->encoding);
    if (!e) {
      problem = {
          ir::diag::ParallelTableInvalid,
          file + ":" +
              std::to_string(
                  ir::resolveLoc(cx.sm(), table->encoding_range.Start).line),
          "encoding '" + table->encoding + "' is not supported"};
      return false;
    }
    proto.encoding = *e;
    proto.encoding_given = true;
  }
  std::vector<mt::PathColumn> columns = table->pathColumns();
  for (const mt::PathEntry& p : table->paths) {
    const std::string& where = p.value;
    if (llvm::StringRef(where).contains("://")) {
      cx.diags
          ->report(p.range, ir::diag::MLTablePathInvalid, where,
                   "is not a local path")
          .note(llvm::SMRange(),
                "pipec run reads local files: copy the data next to the "
                "MLTable file and write a relative path");
      return cx.fail(problem);
    }
    llvm::StringRef rel = where;
    while (rel.consume_front("./")) {
    }
    std::string abs = llvm::sys::path::is_absolute(rel) ? rel.str()
                      : rel == "." || rel.empty()       ? dir
                                                        : dir + "/" + rel.str();
    std::vector<TableFile> found;
    struct stat st;
    if (p.kind == mt::PathEntry::Kind::File ||
        p.kind == mt::PathEntry::Kind::Folder) {
      if (::stat(abs.c_str(), &st) != 0) {
        cx.diags
            ->report(p.range, ir::diag::MLTablePathInvalid, where,
                     std::string("cannot be read: ") + std::strerror(errno))
            .note(llvm::SMRange(),
                  "paths are relative to the folder of the MLTable file");
        return cx.fail(problem);
      }
      if (!table->isTable()) {
        // A list of files: listed as mini-batches are made (streaming).
        in.listed.push_back({abs, bool(S_ISDIR(st.st_mode)), std::nullopt});
        continue;
      }
      if (S_ISDIR(st.st_mode)) {
        if (llvm::Error e =
                filesUnder(abs, rel.str() + "/", false, scratch, found))
          return bad(problem, file, llvm::toString(std::move(e)));
      } else {
        found.push_back(tableFileFor(abs, rel.str()));
      }
    } else {
      auto glob = llvm::GlobPattern::create(rel);
      if (!glob) {
        cx.diags
            ->report(p.range, ir::diag::MLTablePathInvalid, where,
                     "is not a pattern: " + llvm::toString(glob.takeError()))
            .note(llvm::SMRange(), "write a pattern such as ./**/*.csv");
        return cx.fail(problem);
      }
      if (!table->isTable()) {
        in.listed.push_back({dir, true, std::move(*glob)});
        continue;
      }
      std::vector<TableFile> all;
      if (llvm::Error e = filesUnder(dir, "", false, scratch, all))
        return bad(problem, file, llvm::toString(std::move(e)));
      for (TableFile& t : all)
        if (glob->match(t.rel)) found.push_back(std::move(t));
    }
    for (TableFile& t : found) {
      bool jl = t.json_lines;
      char sep = t.sep;
      std::string path = std::move(t.path), rel_path = std::move(t.rel);
      t = proto;
      if (!table->isTable()) {
        t.json_lines = jl;
        t.sep = sep;
      }
      t.path = std::move(path);
      t.rel = std::move(rel_path);
      if (!columns.empty()) {
        if (table->include_path_column) t.path_values.push_back(t.path);
        if (table->partition) {
          std::vector<std::string> values;
          if (!table->partition->match(t.path, values)) {
            cx.diags
                ->report(table->partition_range, ir::diag::MLTablePathMismatch,
                         t.rel, table->partition->text)
                .note(llvm::SMRange(),
                      "the format matches the end of each file's path, one "
                      "'{{Name}}' per folder or part of a name");
            return cx.fail(problem);
          }
          for (std::string& v : values) t.path_values.push_back(std::move(v));
        }
      }
      in.files.push_back(std::move(t));
    }
  }
  in.mltable = std::move(table);
  return true;
}

// Reads the byte order mark `t` starts with, if any.
bool readByteOrderMark(TableFile& t, Problem& problem) {
  int fd = ::open(t.path.c_str(), O_RDONLY | O_CLOEXEC);
  char head[4];
  ssize_t got = fd >= 0 ? ::pread(fd, head, sizeof(head), 0) : -1;
  if (got < 0) {
    problem = {ir::diag::ParallelInputUnreadable, t.path, std::strerror(errno)};
    if (fd >= 0) ::close(fd);
    return false;
  }
  ::close(fd);
  ByteOrderMark bom = detectByteOrderMark(llvm::StringRef(head, got));
  if (!bom.length) return true;
  if (t.encoding_given && t.encoding.kind != bom.encoding.kind) {
    problem = {ir::diag::ParallelTableInvalid, t.path,
               std::string("it starts with a byte order mark of ") +
                   bom.encoding.name() + " text, but the MLTable says " +
                   "encoding " + t.encoding.name()};
    return false;
  }
  t.encoding = bom.encoding;
  t.bom = std::uint32_t(bom.length);
  return true;
}

}  // namespace

bool resolveTableInput(const std::string& input, const std::string& scratch,
                       ir::DiagnosticEngine* diags, TableInput& in,
                       Problem& problem) {
  struct stat st;
  if (::stat(input.c_str(), &st) != 0) {
    problem = {ir::diag::ParallelInputUnreadable, input, std::strerror(errno)};
    return false;
  }
  std::string dir = input;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  std::vector<TableFile>& out = in.files;
  if (!S_ISDIR(st.st_mode)) {
    out.push_back(tableFileFor(input, llvm::sys::path::filename(input).str()));
  } else if (::stat((dir + "/MLTable").c_str(), &st) == 0) {
    if (!readMLTable(dir, scratch, diags, in, problem)) return false;
    // A list of files is never read as text.
    if (in.filesOnly()) return true;
  } else if (llvm::Error e = filesUnder(dir, "", true, scratch, out)) {
    problem = {ir::diag::ParallelInputUnreadable, input,
               llvm::toString(std::move(e))};
    return false;
  }
  if (out.empty()) {
    problem = {ir::diag::ParallelTableInvalid, input,
               in.mltable ? "its MLTable lists no files"
                          : "no CSV or JSON Lines files (.csv, .tsv, .jsonl) "
                            "and no MLTable file"};
    return false;
  }
  for (TableFile& t : out)
    if (!readByteOrderMark(t, problem)) return false;
  return true;
}

bool resolveTableFiles(const std::string& input, const std::string& scratch,
                       std::vector<TableFile>& out, Problem& problem) {
  TableInput in;
  if (!resolveTableInput(input, scratch, nullptr, in, problem)) return false;
  out = std::move(in.files);
  return true;
}

// --- RowScanner
// ---------------------------------------------------------------

RowScanner::~RowScanner() { close(); }

void RowScanner::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool RowScanner::open(const std::string& path, const RowFormat& format) {
  close();
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) {
    error_ = path + ": " + std::strerror(errno);
    return false;
  }
  path_ = path;
  format_ = format;
  buf_.clear();
  buf_offset_ = format.start;
  pos_ = scan_ = 0;
  in_quotes_ = false;
  eof_ = false;
  error_.clear();
  if (format.start && ::lseek(fd_, off_t(format.start), SEEK_SET) < 0) {
    error_ = path + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

namespace {

// True when `content` (a row without its line ending) holds only spaces and
// tabs that are not the separator: pandas skips such a line.
bool blankContent(const char* p, std::size_t n, const RowFormat& f) {
  const TextEncoding& enc = f.encoding;
  unsigned w = enc.unit();
  for (std::size_t i = 0; i + w <= n; i += w) {
    std::uint32_t c = w == 1 ? std::uint8_t(p[i]) : enc.unitAt(p + i);
    if ((c != ' ' && c != '\t') || (f.quotes && c == std::uint8_t(f.sep)))
      return false;
  }
  return true;
}

}  // namespace

bool RowScanner::next(Row& row) {
  const TextEncoding& enc = format_.encoding;
  const std::size_t w = enc.unit();
  while (true) {
    // Find the end of the row that starts at pos_, resuming at scan_ (always
    // a whole number of code units past pos_).
    const char* data = buf_.data();
    std::size_t n = buf_.size();
    std::size_t i = scan_;
    std::size_t end = 0;  // past the line ending, when one was found
    std::size_t eol = 0;
    // A CR ends a row by itself, or with the LF after it: which one is
    // known once the next unit is read.
    auto atCr = [&](std::size_t at) -> bool {
      if (at + 2 * w <= n) {
        bool lf = (w == 1 ? std::uint8_t(data[at + 1])
                          : enc.unitAt(data + at + w)) == '\n';
        eol = lf ? 2 * w : w;
        end = at + eol;
        return true;
      }
      if (eof_) {
        eol = w;
        end = at + w;
        return true;
      }
      return false;  // refill first
    };
    if (w == 1 && !format_.quotes) {
      // JSON Lines in a one-byte encoding: memchr for both endings.
      const char* lf =
          static_cast<const char*>(std::memchr(data + i, '\n', n - i));
      std::size_t stop = lf ? std::size_t(lf - data) : n;
      const char* cr =
          static_cast<const char*>(std::memchr(data + i, '\r', stop - i));
      if (cr) {
        i = std::size_t(cr - data);
        atCr(i);  // when undecided, the refill resumes at the CR
      } else if (lf) {
        i = stop;
        eol = 1;
        end = stop + 1;
      } else {
        i = n;
      }
    } else if (w == 1) {
      // CSV in a one-byte encoding: inside quotes only the closing quote
      // matters (memchr); outside, a quote or a line ending.
      while (i < n) {
        if (in_quotes_) {
          const char* q =
              static_cast<const char*>(std::memchr(data + i, '"', n - i));
          if (!q) {
            i = n;
            break;
          }
          i = std::size_t(q - data) + 1;
          in_quotes_ = false;
          continue;
        }
        char c = data[i];
        if (c == '"') {
          in_quotes_ = true;
        } else if (c == '\n') {
          eol = 1;
          end = i + 1;
          break;
        } else if (c == '\r') {
          atCr(i);  // when undecided, the refill resumes at the CR
          break;
        }
        ++i;
      }
    } else {
      for (; i + w <= n; i += w) {
        std::uint32_t c = enc.unitAt(data + i);
        if (c == '"') {
          if (format_.quotes) in_quotes_ = !in_quotes_;
        } else if (in_quotes_) {
          continue;
        } else if (c == '\n') {
          eol = w;
          end = i + w;
          break;
        } else if (c == '\r') {
          atCr(i);  // when undecided, the refill resumes at the CR
          break;
        }
      }
    }
    if (end || (eof_ && pos_ < n)) {
      if (!end) {
        if ((n - pos_) % w) {
          error_ = "the file ends inside a character: " +
                   std::to_string(buf_offset_ + n - format_.start) +
                   " bytes after the byte order mark are not a whole number "
                   "of " +
                   std::to_string(w) + "-byte " + enc.name() +
                   " code units (is the encoding right?)";
          return false;
        }
        end = n;
      }
      row.begin = buf_offset_ + pos_;
      row.end = buf_offset_ + end;
      row.bytes = llvm::StringRef(data + pos_, end - pos_);
      row.eol = eol;
      row.blank = blankContent(data + pos_, end - pos_ - eol, format_);
      pos_ = scan_ = end;
      in_quotes_ = false;
      return true;
    }
    if (eof_) return false;
    // Refill: keep the unfinished row, read more.
    if (i > n) i = n;
    std::size_t resume = i - pos_;
    resume -= resume % w;
    buf_.erase(0, pos_);
    buf_offset_ += pos_;
    scan_ = resume;
    pos_ = 0;
    std::size_t have = buf_.size();
    if (have >= max_row_) {
      error_ = "the row at byte " + std::to_string(buf_offset_) +
               " is longer than " + std::to_string(max_row_ >> 20) +
               " MB (an unterminated quote?)";
      return false;
    }
    std::size_t want = std::max<std::size_t>(1u << 20, have);
    buf_.resize(have + want);
    ssize_t got;
    do {
      got = ::read(fd_, &buf_[have], want);
    } while (got < 0 && errno == EINTR);
    if (got < 0) {
      error_ = path_ + ": " + std::strerror(errno);
      buf_.resize(have);
      return false;
    }
    buf_.resize(have + std::size_t(got));
    if (got == 0) eof_ = true;
  }
}

// --- splitting by size ------------------------------------------------------

namespace {

RowFormat rowFormat(const TableFile& t) {
  RowFormat f;
  f.quotes = !t.json_lines;
  f.sep = t.sep;
  f.encoding = t.encoding;
  f.start = t.bom;
  return f;
}

// A header row as the harness gets it: UTF-8, ending in one "\n".
bool headerText(const Row& row, const TableFile& t, std::string& out,
                Problem& problem) {
  out.clear();
  std::size_t bad = 0;
  if (!appendUtf8(row.bytes.drop_back(row.eol), t.encoding, out, &bad)) {
    problem = {ir::diag::ParallelTableInvalid, t.path,
               "the header is not " + std::string(t.encoding.name()) +
                   " text (byte " + std::to_string(row.begin + bad) + ")"};
    return false;
  }
  out.push_back('\n');
  return true;
}

// How `t` is read, for mini-batch identity: the same bytes read with another
// delimiter, header mode or encoding are other rows.
std::string readingKey(const TableFile& t) {
  std::string k = t.json_lines ? "jsonl" : "csv";
  k.push_back('\0');
  k.push_back(t.sep);
  k.push_back(char('0' + int(t.header)));
  k += t.encoding.pythonCodec();
  k.push_back('\0');
  return k;
}

// The fields of `t`'s table slices that do not change between mini-batches:
// the format, the separator and header (UTF-8) of CSV, and the codec of the
// slice's bytes.
void appendSliceFields(std::string& out, const TableFile& t,
                       const std::string& header, bool has_header) {
  out.append(",\"fmt\":");
  out.append(t.json_lines ? "\"jsonl\"" : "\"csv\"");
  if (!t.json_lines) {
    out.append(",\"sep\":");
    appendJsonString(out, llvm::StringRef(&t.sep, 1));
    out.append(",\"h\":");
    if (has_header)
      appendJsonString(out, header);
    else
      out.append("null");
  }
  out.append(",\"enc\":");
  appendJsonString(out, t.encoding.pythonCodec());
}

// What the harness does to a table slice after reading it, from the
// MLTable: path columns (names and types), the sample, conversions, columns
// dropped or kept. Empty when there is nothing to do.
std::string transformJson(const ir::mltable::MLTable* t, bool with_sample) {
  if (!t) return "";
  namespace mt = ir::mltable;
  std::string x;
  auto list = [&](const char* key, const std::vector<std::string>& v) {
    if (v.empty()) return;
    x.append(",\"").append(key).append("\":[");
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (i) x.push_back(',');
      appendJsonString(x, v[i]);
    }
    x.push_back(']');
  };
  std::vector<mt::PathColumn> cols = t->pathColumns();
  if (!cols.empty()) {
    x.append(",\"cols\":[");
    for (std::size_t i = 0; i < cols.size(); ++i) {
      if (i) x.push_back(',');
      x.push_back('[');
      appendJsonString(x, cols[i].name);
      x.append(cols[i].datetime ? ",\"datetime\"]" : ",\"str\"]");
    }
    x.push_back(']');
  }
  if (t->sample && with_sample) {
    x.append(",\"sp\":[");
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.17g", *t->sample);
    x.append(buf).push_back(',');
    appendUInt(x, t->seed);
    x.push_back(']');
  }
  if (!t->conversions.empty()) {
    x.append(",\"conv\":[");
    for (std::size_t i = 0; i < t->conversions.size(); ++i) {
      const mt::Conversion& c = t->conversions[i];
      if (i) x.push_back(',');
      x.append("{\"type\":");
      appendJsonString(x, c.type);
      std::string inner;
      std::swap(inner, x);
      list("columns", c.columns);
      list("formats", c.formats);
      list("true", c.true_values);
      list("false", c.false_values);
      std::swap(inner, x);
      x.append(inner).push_back('}');
    }
    x.push_back(']');
  }
  list("drop", t->drop_columns);
  list("keep", t->keep_columns);
  if (t->empty_as_string) x.append(",\"eas\":true");
  if (!t->infer_column_types) x.append(",\"infer\":false");
  if (x.empty()) return "";
  x[0] = '{';
  x.push_back('}');
  return x;
}

// Rows left out at the start, sampled and taken: the same for slices and
// partitions. Counts rows that are not blank, in file order.
struct RowFilter {
  std::uint64_t skip = 0;
  std::optional<std::uint64_t> take;
  std::optional<double> sample;
  std::uint64_t seed = 0;
  std::uint64_t index = 0;  // rows seen after the skipped ones
  std::uint64_t kept = 0;

  explicit RowFilter(const ir::mltable::MLTable* t) {
    if (!t) return;
    skip = t->skip;
    take = t->take;
    sample = t->sample;
    seed = t->seed;
  }
  bool done() const { return take && kept >= *take; }
  // For a row that is not blank: skipped (false, counts nothing), or in
  // the table (true; `keep` says whether it is in the sample).
  bool admit(bool& keep) {
    if (skip) {
      --skip;
      return false;
    }
    keep = !sample || ir::mltable::sampled(seed, index, *sample);
    ++index;
    if (keep) ++kept;
    return true;
  }
};

class TableSource : public BatchSource {
 public:
  TableSource(std::vector<TableFile> files, std::uint64_t size,
              const ir::mltable::MLTable* table)
      : files_(std::move(files)),
        size_(size ? size : 1),
        filter_(table),
        transform_(transformJson(table, true)) {}

  bool next(MiniBatch& out) override {
    while (!failed()) {
      if (filter_.done()) return false;
      if (!open_ && !openNext()) return false;
      Row row;
      std::uint64_t begin = 0, end = 0, items = 0, rows = 0;
      std::uint64_t first_index = filter_.index;
      llvm::SHA1 sha;
      sha.update(files_[file_].rel);
      sha.update(llvm::StringRef("\0", 1));
      sha.update(readingKey(files_[file_]));
      sha.update(header_);
      sha.update(transform_);
      bool any = false;
      while (end - begin < size_ && !filter_.done() && scanner_.next(row)) {
        bool keep = true;
        if (!row.blank) {
          if (!filter_.admit(keep)) continue;  // skipped
        } else if (filter_.skip) {
          continue;  // a blank line among the skipped rows
        }
        if (!any) {
          begin = row.begin;
          first_index = filter_.index - (row.blank ? 0 : 1);
        }
        any = true;
        end = row.end;
        if (!row.blank) {
          ++rows;
          if (keep) ++items;
        }
        sha.update(row.bytes);
      }
      if (!scanner_.error().empty()) {
        problem_ = {ir::diag::ParallelInputUnreadable, files_[file_].path,
                    scanner_.error()};
        return false;
      }
      if (!any) {
        open_ = false;
        ++file_;
        continue;
      }
      if (items == 0) continue;  // only blank lines, or none in the sample
      const TableFile& t = files_[file_];
      out.index = produced_++;
      out.items = items;
      out.files.clear();
      out.label = t.rel + ":" + std::to_string(begin);
      out.payload.assign("{\"f\":");
      appendJsonString(out.payload, t.path);
      out.payload.append(",\"b\":");
      appendUInt(out.payload, begin);
      out.payload.append(",\"e\":");
      appendUInt(out.payload, end);
      out.payload.append(",\"n\":");
      appendUInt(out.payload, rows);
      appendSliceFields(out.payload, t, header_, has_header_);
      if (!transform_.empty()) {
        out.payload.append(",\"x\":").append(transform_);
        out.payload.append(",\"r0\":");
        appendUInt(out.payload, first_index);
        if (!t.path_values.empty()) {
          out.payload.append(",\"pc\":[");
          for (std::size_t i = 0; i < t.path_values.size(); ++i) {
            if (i) out.payload.push_back(',');
            appendJsonString(out.payload, t.path_values[i]);
          }
          out.payload.push_back(']');
        }
      }
      out.payload.push_back('}');
      std::copy_n(sha.final().bytes_begin(), 16, out.hash.bytes.begin());
      return true;
    }
    return false;
  }

 private:
  bool openNext() {
    if (file_ >= files_.size()) return false;
    const TableFile& t = files_[file_];
    if (!scanner_.open(t.path, rowFormat(t))) {
      problem_ = {ir::diag::ParallelInputUnreadable, t.path, scanner_.error()};
      return false;
    }
    open_ = true;
    bool reads_header =
        !t.json_lines &&
        (t.header == TableFile::Header::Each ||
         (t.header == TableFile::Header::FromFirst && file_ == 0));
    if (reads_header) {
      Row row;
      header_.clear();
      if (scanner_.next(row) && !headerText(row, t, header_, problem_))
        return false;
      if (!scanner_.error().empty()) {
        problem_ = {ir::diag::ParallelInputUnreadable, t.path,
                    scanner_.error()};
        return false;
      }
    } else if (t.json_lines || t.header == TableFile::Header::None) {
      header_.clear();
    }
    has_header_ = !t.json_lines && t.header != TableFile::Header::None;
    return true;
  }

  std::vector<TableFile> files_;
  std::uint64_t size_;
  RowFilter filter_;
  std::string transform_;
  std::size_t file_ = 0;
  bool open_ = false;
  RowScanner scanner_;
  std::string header_;  // UTF-8
  bool has_header_ = false;
};

// --- partitions
// ----------------------------------------------------------------

// Splits a CSV row into fields (RFC 4180 quoting), up to `max_fields`.
std::vector<std::string> csvFields(llvm::StringRef row, char sep,
                                   std::size_t max_fields) {
  std::vector<std::string> fields;
  row.consume_back("\n");
  row.consume_back("\r");
  std::string cur;
  bool quoted = false;
  for (std::size_t i = 0; i < row.size(); ++i) {
    char c = row[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < row.size() && row[i + 1] == '"') {
          cur.push_back('"');
          ++i;
        } else {
          quoted = false;
        }
      } else {
        cur.push_back(c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == sep) {
      fields.push_back(std::move(cur));
      cur.clear();
      if (fields.size() >= max_fields) return fields;
    } else {
      cur.push_back(c);
    }
  }
  fields.push_back(std::move(cur));
  return fields;
}

// Appends `v` as one CSV field, quoted when it must be.
void appendCsvField(std::string& out, llvm::StringRef v, char sep) {
  if (v.find_first_of(std::string("\"\r\n") + sep) == llvm::StringRef::npos) {
    out.append(v.data(), v.size());
    return;
  }
  out.push_back('"');
  for (char c : v) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

std::string jsonScalarText(const llvm::json::Value* v) {
  if (!v) return "";
  if (auto s = v->getAsString()) return s->str();
  if (v->getAsNull()) return "";
  std::string out;
  llvm::raw_string_ostream os(out);
  os << *v;
  return os.str();
}

class PartitionSource : public BatchSource {
 public:
  PartitionSource(std::vector<std::string> keys, std::string dir,
                  TableFile proto, const ir::mltable::MLTable* table)
      : keys_(std::move(keys)),
        dir_(std::move(dir)),
        proto_(std::move(proto)),
        filter_(table),
        transform_(transformJson(table, false)) {
    if (table)
      for (const ir::mltable::PathColumn& c : table->pathColumns())
        path_columns_.push_back(c.name);
  }

  // Pass over every row: rows go to one file per key tuple, as UTF-8 (or
  // ASCII) text whatever the input's encoding.
  bool build(const std::vector<TableFile>& files, std::size_t memory) {
    RowScanner scanner;
    std::vector<std::size_t> columns;
    std::string text;  // the row as UTF-8, when it was not
    std::string line;  // the row with its path columns
    for (std::size_t f = 0; f < files.size() && !filter_.done(); ++f) {
      const TableFile& t = files[f];
      bool transcode = t.encoding.kind != TextEncoding::Kind::Utf8 &&
                       t.encoding.kind != TextEncoding::Kind::Ascii;
      if (!scanner.open(t.path, rowFormat(t))) {
        problem_ = {ir::diag::ParallelInputUnreadable, t.path, scanner.error()};
        return false;
      }
      Row row;
      bool reads_header =
          !t.json_lines &&
          (t.header == TableFile::Header::Each ||
           (t.header == TableFile::Header::FromFirst && f == 0));
      if (reads_header && scanner.next(row)) {
        std::string h;
        if (!headerText(row, t, h, problem_)) return false;
        if (f == 0 || header_.empty()) {
          header_ = h;
          out_header_ = h;
          if (!path_columns_.empty()) {
            out_header_.pop_back();
            for (const std::string& c : path_columns_) {
              out_header_.push_back(t.sep);
              appendCsvField(out_header_, c, t.sep);
            }
            out_header_.push_back('\n');
          }
        } else if (h != header_) {
          problem_ = {ir::diag::ParallelTableInvalid, t.path,
                      "its header differs from the header of '" +
                          files[0].path +
                          "'; partition_keys needs one header for all files"};
          return false;
        }
      }
      if (!keyColumns(t, columns)) return false;
      while (!filter_.done() && scanner.next(row)) {
        if (row.blank) continue;
        bool keep = true;
        if (!filter_.admit(keep) || !keep) continue;
        llvm::StringRef bytes = row.bytes;
        if (transcode) {
          text.clear();
          std::size_t bad = 0;
          if (!appendUtf8(bytes, t.encoding, text, &bad)) {
            problem_ = {ir::diag::ParallelTableInvalid, t.path,
                        "the row at byte " + std::to_string(row.begin) +
                            " is not " + t.encoding.name() + " text (byte " +
                            std::to_string(row.begin + bad) + ")"};
            return false;
          }
          bytes = text;
        }
        llvm::StringRef content =
            bytes.drop_back(transcode ? row.eol / t.encoding.unit() : row.eol);
        std::string tuple;
        std::vector<std::string> values;
        if (t.json_lines) {
          auto v = llvm::json::parse(content);
          const llvm::json::Object* o = v ? v->getAsObject() : nullptr;
          if (!o) {
            if (!v) llvm::consumeError(v.takeError());
            problem_ = {ir::diag::ParallelTableInvalid, t.path,
                        "the row at byte " + std::to_string(row.begin) +
                            " is not a JSON object"};
            return false;
          }
          for (std::size_t ki = 0; ki < keys_.size(); ++ki) {
            const std::string& k = keys_[ki];
            if (key_path_[ki] >= 0) {
              values.push_back(t.path_values[std::size_t(key_path_[ki])]);
              continue;
            }
            if (!o->get(k)) {
              problem_ = {ir::diag::ParallelPartitionKeyMissing, k,
                          "is not a field of the row at byte " +
                              std::to_string(row.begin) + " of '" + t.path +
                              "'"};
              return false;
            }
            values.push_back(jsonScalarText(o->get(k)));
          }
        } else {
          std::size_t need = 1;
          for (std::size_t c : columns)
            if (c != SIZE_MAX) need = std::max(need, c + 1);
          std::vector<std::string> fields = csvFields(content, t.sep, need);
          for (std::size_t ki = 0; ki < keys_.size(); ++ki) {
            std::size_t c = columns[ki];
            if (key_path_[ki] >= 0)
              values.push_back(t.path_values[std::size_t(key_path_[ki])]);
            else
              values.push_back(c < fields.size() ? fields[c] : std::string());
          }
        }
        for (const std::string& v : values) {
          tuple.append(v);
          tuple.push_back('\x1f');
        }
        auto [it, inserted] = ids_.try_emplace(tuple, tuples_.size());
        if (inserted) {
          tuples_.push_back(std::move(values));
          buffers_.emplace_back();
          rows_.push_back(0);
        }
        std::size_t id = it->second;
        if (!t.path_values.empty()) {
          withPathColumns(content, t, line);
          bytes = line;
        }
        buffers_[id].append(bytes.data(), bytes.size());
        if (!bytes.endswith("\n") && !bytes.endswith("\r"))
          buffers_[id].push_back('\n');
        buffered_ += bytes.size() + 1;
        ++rows_[id];
        if (buffered_ > memory && !flush()) return false;
      }
      if (!scanner.error().empty()) {
        problem_ = {ir::diag::ParallelInputUnreadable, t.path, scanner.error()};
        return false;
      }
    }
    return flush();
  }

  std::optional<std::uint64_t> total() const override { return tuples_.size(); }

  bool next(MiniBatch& out) override {
    if (failed() || produced_ >= tuples_.size()) return false;
    std::size_t id = produced_;
    std::string path = partPath(id);
    std::string content;
    if (!readPart(path, content)) return false;
    llvm::SHA1 sha;
    sha.update(readingKey(proto_));
    for (const std::string& v : tuples_[id]) {
      sha.update(v);
      sha.update(llvm::StringRef("\x1f", 1));
    }
    sha.update(content);
    out.index = produced_++;
    out.items = rows_[id];
    out.files.clear();
    out.label = keyLabel(keys_, tuples_[id]);
    out.payload.assign("{\"f\":");
    appendJsonString(out.payload, path);
    out.payload.append(",\"b\":");
    appendUInt(out.payload, out_header_.size());
    out.payload.append(",\"e\":");
    appendUInt(out.payload, content.size());
    out.payload.append(",\"n\":");
    appendUInt(out.payload, rows_[id]);
    appendSliceFields(
        out.payload, proto_, out_header_,
        !proto_.json_lines && proto_.header != TableFile::Header::None);
    if (!transform_.empty()) out.payload.append(",\"x\":").append(transform_);
    out.payload.append(",\"pk\":");
    appendKeyObject(out.payload, keys_, tuples_[id]);
    out.payload.push_back('}');
    std::copy_n(sha.final().bytes_begin(), 16, out.hash.bytes.begin());
    return true;
  }

 private:
  std::string partPath(std::size_t id) const {
    return dir_ + "/" + std::to_string(id) +
           (proto_.json_lines ? ".jsonl" : ".csv");
  }

  bool columnsOf(const TableFile& t, std::vector<std::size_t>& columns) {
    columns.clear();
    bool numbered = t.header == TableFile::Header::None;
    std::vector<std::string> names;
    if (!numbered) names = csvFields(header_, t.sep, SIZE_MAX);
    for (const std::string& k : keys_) {
      // MLTable names the columns of header-less files Column1, Column2, ...
      std::size_t n = 0;
      if (numbered && llvm::StringRef(k).startswith("Column") &&
          !llvm::StringRef(k).drop_front(6).getAsInteger(10, n) && n > 0) {
        columns.push_back(n - 1);
        continue;
      }
      auto it = std::find(names.begin(), names.end(), k);
      if (it == names.end()) {
        problem_ = {ir::diag::ParallelPartitionKeyMissing, k,
                    "is not a column of '" + t.path + "'"};
        return false;
      }
      columns.push_back(std::size_t(it - names.begin()));
    }
    return true;
  }

  bool flush() {
    for (std::size_t id = 0; id < buffers_.size(); ++id) {
      std::string& b = buffers_[id];
      if (b.empty()) continue;
      std::string path = partPath(id);
      if (written_.size() <= id) written_.resize(id + 1, false);
      // The first write of this run replaces what an earlier run left.
      int fd = ::open(path.c_str(),
                      O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC |
                          (written_[id] ? 0 : O_TRUNC),
                      0644);
      bool ok = fd >= 0;
      if (ok && !written_[id]) {
        ok = writeAll(fd, out_header_);
        written_[id] = true;
      }
      ok = ok && writeAll(fd, b);
      int err = errno;
      if (fd >= 0 && ::close(fd) != 0 && ok) {
        ok = false;
        err = errno;
      }
      if (!ok) {
        problem_ = {ir::diag::ParallelStateUnusable, dir_,
                    path + ": " + std::strerror(err)};
        return false;
      }
      std::string().swap(b);
    }
    buffered_ = 0;
    return true;
  }

  bool readPart(const std::string& path, std::string& out) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    bool ok = fd >= 0 && readAll(fd, out);
    if (!ok)
      problem_ = {ir::diag::ParallelStateUnusable, dir_,
                  path + ": " + std::strerror(errno)};
    if (fd >= 0) ::close(fd);
    return ok;
  }

  // Where each key comes from: a path column (its index), or -1.
  bool keyColumns(const TableFile& t, std::vector<std::size_t>& columns) {
    key_path_.assign(keys_.size(), -1);
    for (std::size_t ki = 0; ki < keys_.size(); ++ki)
      for (std::size_t c = 0; c < path_columns_.size(); ++c)
        if (path_columns_[c] == keys_[ki]) key_path_[ki] = int(c);
    columns.assign(keys_.size(), SIZE_MAX);
    if (t.json_lines) return true;
    std::vector<std::string> from_rows;
    for (std::size_t ki = 0; ki < keys_.size(); ++ki)
      if (key_path_[ki] < 0) from_rows.push_back(keys_[ki]);
    if (from_rows.empty()) return true;
    std::vector<std::string> saved = keys_;
    keys_ = from_rows;
    std::vector<std::size_t> found;
    bool ok = columnsOf(t, found);
    keys_ = std::move(saved);
    if (!ok) return false;
    for (std::size_t ki = 0, j = 0; ki < keys_.size(); ++ki)
      if (key_path_[ki] < 0) columns[ki] = found[j++];
    return true;
  }

  // `content` (a row without its line ending) with the path columns of
  // its file: CSV fields at the end, or JSON members at the start.
  void withPathColumns(llvm::StringRef content, const TableFile& t,
                       std::string& out) const {
    out.clear();
    if (!t.json_lines) {
      out.append(content.data(), content.size());
      for (const std::string& v : t.path_values) {
        out.push_back(t.sep);
        appendCsvField(out, v, t.sep);
      }
      out.push_back('\n');
      return;
    }
    std::size_t brace = content.find('{');
    out.append(content.data(), brace + 1);
    llvm::StringRef rest = content.drop_front(brace + 1);
    for (std::size_t c = 0; c < path_columns_.size(); ++c) {
      if (c) out.push_back(',');
      appendJsonString(out, path_columns_[c]);
      out.push_back(':');
      appendJsonString(out, t.path_values[c]);
    }
    if (!rest.ltrim(" \t").startswith("}")) out.push_back(',');
    out.append(rest.data(), rest.size());
    out.push_back('\n');
  }

  std::vector<std::string> keys_;
  std::string dir_;
  TableFile proto_;
  RowFilter filter_;
  std::string transform_;
  std::vector<std::string> path_columns_;
  std::vector<int> key_path_;
  std::string header_;      // as read (UTF-8)
  std::string out_header_;  // as written, with the path columns
  std::unordered_map<std::string, std::size_t> ids_;
  std::vector<std::vector<std::string>> tuples_;
  std::vector<std::string> buffers_;
  std::vector<std::uint64_t> rows_;
  std::vector<bool> written_;
  std::size_t buffered_ = 0;
};

}  // namespace

namespace {

// An MLTable that only lists files: run() gets their paths, N per
// mini-batch (or as many as reach a size), skip/take/take_random_sample
// applied to the files. Each entry of `paths` is listed when reached,
// through a sorter with bounded memory, as a folder input is: memory does
// not grow with the number of files.
class FileListSource : public BatchSource {
 public:
  FileListSource(std::vector<ListedPath> listed, std::string scratch,
                 std::uint64_t count, std::uint64_t bytes,
                 const ir::mltable::MLTable& t)
      : listed_(std::move(listed)),
        scratch_(std::move(scratch)),
        count_(count),
        bytes_(bytes ? bytes : 1),
        filter_(&t) {}

  bool next(MiniBatch& out) override {
    std::string path;
    out.index = produced_;
    out.items = 0;
    out.files.clear();
    out.payload.assign(1, '[');
    std::uint64_t size = 0;
    while (true) {
      if (count_ && out.items == count_) break;
      if (!count_ && out.items && size >= bytes_) break;
      if (!nextFile(path)) break;
      if (!out.items) out.label = path;
      if (out.items) out.payload.push_back(',');
      appendJsonString(out.payload, path);
      out.files.append(path);
      out.files.push_back('\0');
      ++out.items;
      if (!count_) {
        struct stat st;
        if (::stat(path.c_str(), &st) != 0) {
          problem_ = {ir::diag::ParallelInputUnreadable, path,
                      std::strerror(errno)};
          return false;
        }
        size += std::uint64_t(st.st_size);
      }
    }
    if (failed() || !out.items) return false;
    out.payload.push_back(']');
    llvm::SHA1 sha;
    sha.update(out.files);
    std::copy_n(sha.final().bytes_begin(), 16, out.hash.bytes.begin());
    ++produced_;
    return true;
  }

 private:
  // The next file of the list that skip, the sample and take leave in.
  bool nextFile(std::string& path) {
    while (!filter_.done() && nextListed(path)) {
      bool keep = true;
      if (filter_.admit(keep) && keep) return true;
    }
    return false;
  }

  // The next file of the entries, in order.
  bool nextListed(std::string& path) {
    std::string rel;
    while (true) {
      if (sorter_) {
        if (sorter_->next(rel)) {
          path = base_ + "/" + rel;
          return true;
        }
        if (!sorter_->error().empty()) {
          problem_ = {ir::diag::ParallelInputUnreadable, base_,
                      sorter_->error()};
          return false;
        }
        sorter_.reset();
      }
      if (entry_ >= listed_.size()) return false;
      const ListedPath& e = listed_[entry_++];
      if (!e.folder) {
        path = e.abs;
        return true;
      }
      base_ = e.abs;
      while (base_.size() > 1 && base_.back() == '/') base_.pop_back();
      sorter_ = std::make_unique<ExternalSorter>(scratch_, 16u << 20);
      const std::optional<llvm::GlobPattern>& glob = e.glob;
      llvm::Error err = listFiles(base_, [&](llvm::StringRef r) -> llvm::Error {
        if (llvm::sys::path::filename(r) == "MLTable")
          return llvm::Error::success();
        if (glob && !glob->match(r)) return llvm::Error::success();
        return sorter_->add(r);
      });
      if (!err) err = sorter_->finish();
      if (err) {
        problem_ = {ir::diag::ParallelInputUnreadable, base_,
                    llvm::toString(std::move(err))};
        return false;
      }
    }
  }

  std::vector<ListedPath> listed_;
  std::string scratch_;
  std::uint64_t count_, bytes_;
  RowFilter filter_;
  std::size_t entry_ = 0;
  std::unique_ptr<ExternalSorter> sorter_;
  std::string base_;
};

// The columns a CSV table's rows have (header, or Column1..N without one),
// then its path columns.
bool tableColumns(const TableFile& t, const ir::mltable::MLTable& m,
                  std::vector<std::string>& names, Problem& problem) {
  names.clear();
  RowScanner scanner;
  if (!scanner.open(t.path, rowFormat(t))) {
    problem = {ir::diag::ParallelInputUnreadable, t.path, scanner.error()};
    return false;
  }
  Row row;
  while (scanner.next(row) && row.blank) {
  }
  if (!scanner.error().empty()) {
    problem = {ir::diag::ParallelInputUnreadable, t.path, scanner.error()};
    return false;
  }
  if (row.bytes.empty()) return true;
  std::string text;
  if (!headerText(row, t, text, problem)) return false;
  std::vector<std::string> fields = csvFields(text, t.sep, SIZE_MAX);
  if (t.header == TableFile::Header::None) {
    for (std::size_t i = 0; i < fields.size(); ++i)
      names.push_back("Column" + std::to_string(i + 1));
  } else {
    names = std::move(fields);
  }
  for (const ir::mltable::PathColumn& c : m.pathColumns())
    names.push_back(c.name);
  return true;
}

// Columns that drop_columns, keep_columns and convert_column_types name
// must be columns of a CSV table (JSON Lines rows may differ: the harness
// checks those).
bool checkColumns(const TableInput& in, const std::string& mltable_file,
                  ir::DiagnosticEngine* diags, Problem& problem) {
  const ir::mltable::MLTable& m = *in.mltable;
  if (m.format != ir::mltable::MLTable::Format::Delimited) return true;
  if (m.drop_columns.empty() && m.keep_columns.empty() && m.conversions.empty())
    return true;
  std::vector<std::string> names;
  if (!tableColumns(in.files[0], m, names, problem)) return false;
  if (names.empty()) return true;
  auto check = [&](const std::vector<std::string>& cols, llvm::SMRange r,
                   const char* what) {
    for (const std::string& c : cols) {
      if (std::find(names.begin(), names.end(), c) != names.end()) continue;
      std::string list;
      for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
      std::string file = in.files[0].path;
      if (diags)
        diags->report(r, ir::diag::MLTableUnknownColumn, c, what, list)
            .note(llvm::SMRange(), "the columns are read from '{}'", file);
      problem = {ir::diag::MLTableInvalid, mltable_file,
                 "column '" + c + "' of " + what +
                     " is not a column of the table (its columns: " + list +
                     ")"};
      return false;
    }
    return true;
  };
  if (!check(m.drop_columns, m.drop_range, "drop_columns")) return false;
  if (!check(m.keep_columns, m.keep_range, "keep_columns")) return false;
  for (const ir::mltable::Conversion& c : m.conversions)
    if (!check(c.columns, m.conversions_range, "convert_column_types"))
      return false;
  return true;
}

}  // namespace

std::unique_ptr<BatchSource> openTableSource(const SourceOptions& opts,
                                             Problem& problem) {
  TableInput in;
  if (!resolveTableInput(opts.input_path, opts.scratch_dir, opts.diags, in,
                         problem))
    return nullptr;
  const ir::mltable::MLTable* table = in.mltable ? &*in.mltable : nullptr;
  if (in.filesOnly()) {
    if (opts.batch_by == ir::ParallelSettings::BatchBy::PartitionKeys) {
      problem = {ir::diag::ParallelPartitionKeyMissing,
                 opts.partition_keys.empty() ? "" : opts.partition_keys[0],
                 "needs a table, but the MLTable of '" + opts.input_path +
                     "' only lists files (add read_delimited or "
                     "read_json_lines)"};
      return nullptr;
    }
    return std::make_unique<FileListSource>(
        std::move(in.listed), opts.scratch_dir, opts.mini_batch_files,
        opts.mini_batch_size, *table);
  }
  std::vector<TableFile>& files = in.files;
  if (table &&
      !checkColumns(in, opts.input_path + "/MLTable", opts.diags, problem))
    return nullptr;
  if (opts.batch_by != ir::ParallelSettings::BatchBy::PartitionKeys)
    return std::make_unique<TableSource>(std::move(files), opts.mini_batch_size,
                                         table);
  bool jl = files[0].json_lines;
  for (const TableFile& t : files)
    if (t.json_lines != jl) {
      problem = {ir::diag::ParallelTableInvalid, opts.input_path,
                 "partition_keys needs all files in one format, CSV or JSON "
                 "Lines"};
      return nullptr;
    }
  std::string dir = opts.scratch_dir + "/partitions";
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    problem = {ir::diag::ParallelStateUnusable, dir, std::strerror(errno)};
    return nullptr;
  }
  // Partition files hold UTF-8 (ASCII stays ASCII, so that a byte above
  // 0x7F is still an error), without a byte order mark.
  TableFile proto = files[0];
  if (proto.encoding.kind != TextEncoding::Kind::Ascii)
    proto.encoding = TextEncoding();
  proto.bom = 0;
  auto src = std::make_unique<PartitionSource>(opts.partition_keys, dir,
                                               std::move(proto), table);
  if (!src->build(files, opts.partition_memory)) {
    problem = src->problem();
    return nullptr;
  }
  return src;
}

}  // namespace pipec::runtime::parallel
