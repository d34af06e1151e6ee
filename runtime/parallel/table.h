// Table files of a parallel step's input: which files, in which format, and a
// scanner that finds row boundaries (quotes respected) in bounded memory.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ir/mltable.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/GlobPattern.h"
#include "runtime/parallel/encoding.h"
#include "runtime/parallel/problem.h"

namespace pipec::runtime::parallel {

/// One file of a table input.
struct TableFile {
  /// Which lines of a CSV file are headers.
  enum class Header : std::uint8_t {
    Each,       ///< every file starts with its header (the default)
    FromFirst,  ///< only the first file has one; it names every file's columns
    None,       ///< no header: columns are Column1, Column2, ...
  };
  std::string path;  ///< absolute
  std::string rel;   ///< relative to the input (part of mini-batch identity)
  bool json_lines = false;
  char sep = ',';
  Header header = Header::Each;
  /// The file's encoding; for UTF-16/32 with the byte order of its mark.
  TextEncoding encoding;
  /// The MLTable names the encoding; otherwise a byte order mark picks it.
  bool encoding_given = false;
  /// Bytes of the byte order mark the file starts with (rows begin after).
  std::uint32_t bom = 0;
  /// The values of the MLTable's path columns for this file
  /// (MLTable::pathColumns(): `Path`, then the partition format's).
  std::vector<std::string> path_values;
};

/// One entry of the `paths` of an MLTable that only lists files, checked
/// but not yet listed: its files are listed as mini-batches are made.
struct ListedPath {
  std::string abs;  ///< a file, or the folder to walk
  bool folder = false;
  /// For `pattern:`: relative paths under `abs` (the MLTable's folder)
  /// that match it.
  std::optional<llvm::GlobPattern> glob;
};

/// A table input resolved: its files and, for an MLTable, what it says.
struct TableInput {
  /// The files of a table (empty for a list of files: see `listed`).
  std::vector<TableFile> files;
  /// The paths of an MLTable that only lists files, in order.
  std::vector<ListedPath> listed;
  /// The MLTable, when the input has one. Without read_delimited or
  /// read_json_lines it only lists files: run() gets their paths.
  std::optional<ir::mltable::MLTable> mltable;
  bool filesOnly() const { return mltable && !mltable->isTable(); }
};

/// Resolves `input` as resolveTableFiles does, keeping the MLTable. Problems
/// located in the MLTable file are reported to `diags` (when given; its
/// SourceMgr gets the file) with a caret, and `problem` names the file.
bool resolveTableInput(const std::string& input, const std::string& scratch,
                       ir::DiagnosticEngine* diags, TableInput& out,
                       Problem& problem);

/// The table files of `input`: a CSV or JSON Lines file, a folder with an
/// MLTable file (paths: file/folder/pattern; read_delimited or
/// read_json_lines), or a folder of .csv/.tsv/.jsonl files (sorted). Reads
/// the first bytes of each file: a byte order mark sets `bom` and picks the
/// encoding when the MLTable names none; one that contradicts the named
/// encoding is a problem, as is an encoding pipec does not know.
bool resolveTableFiles(const std::string& input, const std::string& scratch,
                       std::vector<TableFile>& out, Problem& problem);

/// One row: its byte range in the file and its bytes (line ending included).
struct Row {
  std::uint64_t begin = 0, end = 0;
  llvm::StringRef bytes;  ///< valid until the next call
  std::size_t eol = 0;    ///< bytes of the line ending (0 at the end of file)
  /// Only spaces and tabs (other than the separator) before the line
  /// ending: no row for pandas, nor for pipec.
  bool blank = false;
};

/// How rows of a file are found.
struct RowFormat {
  bool quotes = true;  ///< CSV: line endings inside double quotes are data
  char sep = ',';      ///< CSV: never blank space
  TextEncoding encoding;
  std::uint64_t start = 0;  ///< where the first row begins (after a BOM)
};

/// Reads a file row by row through a buffer, a code unit at a time (never
/// ending a row inside a UTF-16/32 character). A row ends at LF, CRLF or a
/// lone CR: outside double quotes (CSV), or anywhere (JSON Lines).
class RowScanner {
 public:
  RowScanner() = default;
  ~RowScanner();
  RowScanner(const RowScanner&) = delete;
  RowScanner& operator=(const RowScanner&) = delete;

  bool open(const std::string& path, const RowFormat& format);
  bool open(const std::string& path, bool quotes) {
    RowFormat f;
    f.quotes = quotes;
    return open(path, f);
  }
  /// The next row; false at the end or on an error (error() set), which
  /// includes a row longer than the limit (64 MB unless set).
  bool next(Row& row);
  void setMaxRow(std::size_t bytes) { max_row_ = bytes; }
  const std::string& error() const { return error_; }

 private:
  void close();
  int fd_ = -1;
  std::string path_;
  RowFormat format_;
  std::string buf_;
  std::uint64_t buf_offset_ = 0;  // file offset of buf_[0]
  std::size_t pos_ = 0;           // start of the current row in buf_
  std::size_t scan_ = 0;          // where scanning resumes
  bool in_quotes_ = false;
  bool eof_ = false;
  std::size_t max_row_ = 64u << 20;
  std::string error_;
};

}  // namespace pipec::runtime::parallel
