// MLTable files (Azure ML's `MLTable` YAML): what a parallel step's input
// holds and how `pipec run` reads it. One reader for `pipec check` (when the
// MLTable is a local file at check time) and for the engine (when a step
// starts), so both report the same located diagnostics.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ir/diagnostics.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/SourceMgr.h"

namespace pipec::ir::mltable {

/// One entry of `paths:`.
struct PathEntry {
  enum class Kind : std::uint8_t { File, Folder, Pattern };
  Kind kind = Kind::File;
  std::string value;    ///< as written
  llvm::SMRange range;  ///< of the entry
};

/// A column whose values come from the path of each file
/// (`extract_columns_from_partition_format`): `{Name}` is a string,
/// `{Name:yyyy/MM/dd}` a datetime, as Azure types them.
struct PathColumn {
  std::string name;
  bool datetime = false;
  std::string format;  ///< the datetime format (yyyy, MM, dd, HH, mm, ss)
};

/// A compiled partition format. It matches the end of a path, from a `/`.
struct PartitionFormat {
  struct Piece {
    bool column = false;
    std::string text;       ///< literal text, or the datetime format
    std::size_t index = 0;  ///< into columns, when `column`
  };
  std::string text;  ///< as written
  std::vector<Piece> pieces;
  std::vector<PathColumn> columns;
  /// The column values taken from `path` (datetimes as ISO 8601,
  /// "2019-01-31T00:00:00"); false when the path does not match.
  bool match(llvm::StringRef path, std::vector<std::string>& values) const;
};

/// One `convert_column_types` entry.
struct Conversion {
  std::vector<std::string> columns;
  std::string type;                  ///< int, float, string, boolean, datetime
  std::vector<std::string> formats;  ///< datetime formats (strptime)
  std::vector<std::string> true_values, false_values;  ///< boolean
};

/// What an MLTable file says, as `pipec run` applies it.
struct MLTable {
  enum class Format : std::uint8_t { Files, Delimited, JsonLines };
  enum class Header : std::uint8_t { Each, FromFirst, None };

  std::vector<PathEntry> paths;
  /// Files: the MLTable only lists paths, and run() gets file paths.
  Format format = Format::Files;
  llvm::SMRange format_range;
  char delimiter = ',';
  Header header = Header::Each;
  std::string encoding;  ///< as written; empty when not given
  llvm::SMRange encoding_range;
  bool include_path_column = false;
  bool empty_as_string = false;
  bool infer_column_types = true;
  std::optional<PartitionFormat> partition;
  llvm::SMRange partition_range;
  std::vector<std::string> drop_columns, keep_columns;
  llvm::SMRange drop_range, keep_range;
  std::vector<Conversion> conversions;
  llvm::SMRange conversions_range;
  std::uint64_t skip = 0;             ///< rows (files) left out at the start
  std::optional<std::uint64_t> take;  ///< rows (files) kept at most
  std::optional<double> sample;       ///< take_random_sample's probability
  std::uint64_t seed = 0;

  bool isTable() const { return format != Format::Files; }
  /// The columns every row gets from its file's path: `Path` with
  /// include_path_column, then the partition format's.
  std::vector<PathColumn> pathColumns() const;
};

/// Whether row (or file) `index` is in the sample of `probability` with
/// `seed`: deterministic, and the same function as the harness's
/// (stdlib/harness/pipec_tables.py, `sampled`).
bool sampled(std::uint64_t seed, std::uint64_t index, double probability);

/// Reads buffer `buffer_id` of `sm` (an MLTable file) through the one YAML
/// reader. Every problem is reported to `diags` at its key or value, with a
/// note saying what to do; returns nullopt when there was an error.
std::optional<MLTable> parse(const llvm::SourceMgr& sm, unsigned buffer_id,
                             DiagnosticEngine& diags);

/// The first YAML construct of MLTable buffer `buffer_id` that the Python
/// splitter of the sh and k8s targets (stdlib/harness/pipec_split.py) does
/// not read: an anchor ('&'; an alias needs one), a tag ('!') or a block
/// scalar ('|', '>'). Its range and its character; an invalid range when
/// there is none (or the file is not YAML, which parse() reports).
std::pair<llvm::SMRange, char> splitterUnreadable(llvm::SourceMgr& sm,
                                                  unsigned buffer_id);

/// Compiles a partition format (`{Store}/{Brand}/{file}.csv`,
/// `{Date:yyyy/MM/dd}/data.csv`); on an error returns nullopt with `why`.
std::optional<PartitionFormat> compilePartitionFormat(llvm::StringRef text,
                                                      std::string& why);

}  // namespace pipec::ir::mltable
