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

// The encoding an MLTable read transformation names in `args`, if any.
bool setEncoding(const ir::yaml::Node* args, TableFile& proto,
                 std::string& why) {
  const ir::yaml::Node* n =
      args && args->isMap() ? args->get("encoding") : nullptr;
  std::string name = n && n->isScalar() ? n->value : std::string();
  if (name.empty()) return true;
  std::optional<TextEncoding> e = parseEncoding(name);
  if (!e) {
    why = "encoding '" + name +
          "' is not supported (supported: " + kSupportedEncodings + ")";
    return false;
  }
  proto.encoding = *e;
  proto.encoding_given = true;
  return true;
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

std::string scalarOf(const ir::yaml::Node* n) {
  return n && n->isScalar() ? n->value : std::string();
}

// Reads an MLTable file (through the one YAML reader, with its limits): its
// paths and its read transformation. Problems name the file and, when they
// are about a place in it, the line and column.
bool readMLTable(const std::string& dir, const std::string& scratch,
                 std::vector<TableFile>& out, Problem& problem) {
  using ir::yaml::Node;
  std::string file = dir + "/MLTable";
  llvm::SourceMgr sm;
  auto at = [&](const Node* n) {
    if (!n) return file;
    ir::LineCol lc = ir::resolveLoc(sm, n->range.Start);
    return file + ":" + std::to_string(lc.line) + ":" +
           std::to_string(lc.column);
  };
  auto bad = [&](const Node* n, std::string why) {
    problem = {ir::diag::ParallelTableInvalid, at(n), std::move(why)};
    return false;
  };
  auto buf = llvm::MemoryBuffer::getFile(file, /*IsText=*/false,
                                         /*RequiresNullTerminator=*/false);
  if (!buf) return bad(nullptr, "cannot read it: " + buf.getError().message());
  unsigned id = sm.AddNewSourceBuffer(std::move(*buf), llvm::SMLoc());
  ir::StoringDiagnosticConsumer yaml_errors;
  ir::DiagnosticEngine diags(sm, yaml_errors);
  std::unique_ptr<ir::yaml::Document> doc = ir::yaml::parse(sm, id, diags);
  for (const ir::Diagnostic& d : yaml_errors.diags)
    if (d.severity == ir::Severity::Error) {
      ir::LineCol lc = ir::resolveLoc(sm, d.range.Start);
      problem = {ir::diag::ParallelTableInvalid,
                 file + ":" + std::to_string(lc.line) + ":" +
                     std::to_string(lc.column),
                 d.message};
      return false;
    }
  if (!doc) return bad(nullptr, "not valid YAML");
  const Node* root = doc->root();
  if (!root->isMap()) return bad(root, "expected a mapping with 'paths'");
  // The read transformation applies to every path.
  TableFile proto;
  bool format_known = false;
  if (const Node* tr = root->get("transformations")) {
    if (!tr->isSeq()) return bad(tr, "'transformations' must be a list");
    for (const Node* step : tr->items) {
      std::string name;
      const Node* args = nullptr;
      if (step->isScalar()) {
        name = step->value;
      } else if (step->isMap() && step->entries.size() == 1) {
        name = scalarOf(step->entries[0].first);
        args = step->entries[0].second;
      } else {
        return bad(step,
                   "each transformation must be a name or a one-key mapping");
      }
      if (name == "read_delimited") {
        format_known = true;
        proto.json_lines = false;
        if (args && args->isMap()) {
          std::string d = scalarOf(args->get("delimiter"));
          if (d == "\\t" || d == "tab") d = "\t";
          if (d.size() > 1)
            return bad(args->get("delimiter"),
                       "delimiter '" + d + "' must be one character");
          if (!d.empty()) proto.sep = d[0];
          std::string h = scalarOf(args->get("header"));
          if (h.empty() || h == "all_files_same_headers" ||
              h == "all_files_different_headers")
            proto.header = TableFile::Header::Each;
          else if (h == "from_first_file")
            proto.header = TableFile::Header::FromFirst;
          else if (h == "no_header")
            proto.header = TableFile::Header::None;
          else
            return bad(args->get("header"),
                       "header '" + h +
                           "' is not one of no_header, from_first_file, "
                           "all_files_same_headers, "
                           "all_files_different_headers");
        }
        if (std::string why; !setEncoding(args, proto, why))
          return bad(args->get("encoding"), why);
      } else if (name == "read_json_lines") {
        format_known = true;
        proto.json_lines = true;
        if (std::string why; !setEncoding(args, proto, why))
          return bad(args->get("encoding"), why);
      } else {
        return bad(step, "transformation '" + name +
                             "' is not supported by pipec (supported: "
                             "read_delimited, read_json_lines)");
      }
    }
  }
  const Node* paths = root->get("paths");
  if (!paths || !paths->isSeq() || paths->items.empty())
    return bad(paths ? paths : root, "'paths' must be a non-empty list");
  for (const Node* p : paths->items) {
    if (!p->isMap() || p->entries.size() != 1)
      return bad(p,
                 "each entry of 'paths' must be one of file:, folder:, "
                 "pattern:");
    std::string kind = scalarOf(p->entries[0].first);
    std::string where = scalarOf(p->entries[0].second);
    if (llvm::StringRef(where).contains("://"))
      return bad(p, "path '" + where + "' is not a local path");
    llvm::StringRef rel = where;
    while (rel.consume_front("./")) {
    }
    std::string abs =
        llvm::sys::path::is_absolute(rel) ? rel.str() : dir + "/" + rel.str();
    std::vector<TableFile> found;
    if (kind == "file") {
      struct stat st;
      if (::stat(abs.c_str(), &st) != 0)
        return bad(p, "path '" + where + "': " + std::strerror(errno));
      if (S_ISDIR(st.st_mode)) {
        if (llvm::Error e =
                filesUnder(abs, rel.str() + "/", false, scratch, found))
          return bad(p, llvm::toString(std::move(e)));
      } else {
        found.push_back(tableFileFor(abs, rel.str()));
      }
    } else if (kind == "folder") {
      if (llvm::Error e =
              filesUnder(abs, rel.str() + "/", false, scratch, found))
        return bad(p,
                   "folder '" + where + "': " + llvm::toString(std::move(e)));
    } else if (kind == "pattern") {
      auto glob = llvm::GlobPattern::create(rel);
      if (!glob)
        return bad(
            p, "pattern '" + where + "': " + llvm::toString(glob.takeError()));
      std::vector<TableFile> all;
      if (llvm::Error e = filesUnder(dir, "", false, scratch, all))
        return bad(p, llvm::toString(std::move(e)));
      for (TableFile& t : all)
        if (glob->match(t.rel)) found.push_back(std::move(t));
    } else {
      return bad(p, "unknown path kind '" + kind +
                        "' (expected file, folder or pattern)");
    }
    for (TableFile& t : found) {
      bool jl = t.json_lines;
      char sep = t.sep;
      std::string path = std::move(t.path), rel_path = std::move(t.rel);
      t = proto;
      if (!format_known) {
        t.json_lines = jl;
        t.sep = sep;
      }
      t.path = std::move(path);
      t.rel = std::move(rel_path);
      out.push_back(std::move(t));
    }
  }
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

bool resolveTableFiles(const std::string& input, const std::string& scratch,
                       std::vector<TableFile>& out, Problem& problem) {
  struct stat st;
  if (::stat(input.c_str(), &st) != 0) {
    problem = {ir::diag::ParallelInputUnreadable, input, std::strerror(errno)};
    return false;
  }
  std::string dir = input;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  if (!S_ISDIR(st.st_mode)) {
    out.push_back(tableFileFor(input, llvm::sys::path::filename(input).str()));
  } else if (::stat((dir + "/MLTable").c_str(), &st) == 0) {
    if (!readMLTable(dir, scratch, out, problem)) return false;
  } else if (llvm::Error e = filesUnder(dir, "", true, scratch, out)) {
    problem = {ir::diag::ParallelInputUnreadable, input,
               llvm::toString(std::move(e))};
    return false;
  }
  if (out.empty()) {
    problem = {ir::diag::ParallelTableInvalid, input,
               "no CSV or JSON Lines files (.csv, .tsv, .jsonl) and no MLTable "
               "file"};
    return false;
  }
  for (TableFile& t : out)
    if (!readByteOrderMark(t, problem)) return false;
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

class TableSource : public BatchSource {
 public:
  TableSource(std::vector<TableFile> files, std::uint64_t size)
      : files_(std::move(files)), size_(size ? size : 1) {}

  bool next(MiniBatch& out) override {
    while (!failed()) {
      if (!open_ && !openNext()) return false;
      Row row;
      std::uint64_t begin = 0, end = 0, items = 0;
      llvm::SHA1 sha;
      sha.update(files_[file_].rel);
      sha.update(llvm::StringRef("\0", 1));
      sha.update(readingKey(files_[file_]));
      sha.update(header_);
      bool any = false;
      while (end - begin < size_ && scanner_.next(row)) {
        if (!any) begin = row.begin;
        any = true;
        end = row.end;
        if (!row.blank) ++items;
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
      if (items == 0) continue;  // only blank lines
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
      appendUInt(out.payload, items);
      appendSliceFields(out.payload, t, header_, has_header_);
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
                  TableFile proto, std::string header)
      : keys_(std::move(keys)),
        dir_(std::move(dir)),
        proto_(std::move(proto)),
        header_(std::move(header)) {}

  // Pass over every row: rows go to one file per key tuple, as UTF-8 (or
  // ASCII) text whatever the input's encoding.
  bool build(const std::vector<TableFile>& files, std::size_t memory) {
    RowScanner scanner;
    std::vector<std::size_t> columns;
    std::string text;  // the row as UTF-8, when it was not
    for (std::size_t f = 0; f < files.size(); ++f) {
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
        } else if (h != header_) {
          problem_ = {ir::diag::ParallelTableInvalid, t.path,
                      "its header differs from the header of '" +
                          files[0].path +
                          "'; partition_keys needs one header for all files"};
          return false;
        }
      }
      if (!t.json_lines && !columnsOf(t, columns)) return false;
      while (scanner.next(row)) {
        if (row.blank) continue;
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
          for (const std::string& k : keys_) {
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
          std::size_t need =
              1 + *std::max_element(columns.begin(), columns.end());
          std::vector<std::string> fields = csvFields(content, t.sep, need);
          for (std::size_t c : columns)
            values.push_back(c < fields.size() ? fields[c] : std::string());
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
        buffers_[id].append(bytes.data(), bytes.size());
        if (!row.eol) buffers_[id].push_back('\n');
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
    appendUInt(out.payload, header_.size());
    out.payload.append(",\"e\":");
    appendUInt(out.payload, content.size());
    out.payload.append(",\"n\":");
    appendUInt(out.payload, rows_[id]);
    appendSliceFields(
        out.payload, proto_, header_,
        !proto_.json_lines && proto_.header != TableFile::Header::None);
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
        ok = writeAll(fd, header_);
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

  std::vector<std::string> keys_;
  std::string dir_;
  TableFile proto_;
  std::string header_;
  std::unordered_map<std::string, std::size_t> ids_;
  std::vector<std::vector<std::string>> tuples_;
  std::vector<std::string> buffers_;
  std::vector<std::uint64_t> rows_;
  std::vector<bool> written_;
  std::size_t buffered_ = 0;
};

}  // namespace

std::unique_ptr<BatchSource> openTableSource(const SourceOptions& opts,
                                             Problem& problem) {
  std::vector<TableFile> files;
  if (!resolveTableFiles(opts.input_path, opts.scratch_dir, files, problem))
    return nullptr;
  if (opts.batch_by != ir::ParallelSettings::BatchBy::PartitionKeys)
    return std::make_unique<TableSource>(std::move(files),
                                         opts.mini_batch_size);
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
                                               std::move(proto), std::string());
  if (!src->build(files, opts.partition_memory)) {
    problem = src->problem();
    return nullptr;
  }
  return src;
}

}  // namespace pipec::runtime::parallel
