// Splitting a parallel step's input into mini-batches, streaming: folders by
// file count, tables by size without splitting rows, partitions by key.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ir/ir.h"
#include "runtime/parallel/problem.h"
#include "runtime/parallel/text.h"

namespace pipec::runtime::parallel {

/// One mini-batch as the engine dispatches it.
struct MiniBatch {
  std::uint64_t index = 0;  ///< position in mini-batch order, from 0
  /// JSON that the harness turns into run()'s argument: a list of paths, or
  /// an object describing a table slice (see stdlib/harness).
  std::string payload;
  std::uint64_t items = 0;  ///< files or rows
  /// Identity of the items (names, sizes and times of files; bytes of rows;
  /// key values): the journal's key.
  Hash128 hash;
  std::string label;  ///< the first item or the key tuple, for logs
  /// Folder mini-batches: the paths relative to the input folder (or
  /// absolute), each followed by a NUL. A resume re-runs a committed
  /// mini-batch when one of them changed after the commit.
  std::string files;
};

/// True when every file of `files` (as in MiniBatch::files, relative to the
/// folder `root_fd`) exists and was last modified, and last had its status
/// changed, before `since_ns` (nanoseconds since the epoch, from
/// CLOCK_REALTIME_COARSE).
bool filesUnchangedSince(int root_fd, llvm::StringRef files,
                         std::int64_t since_ns);

/// How the input is split.
struct SourceOptions {
  std::string input_path;
  ir::Type input_type = ir::Type::Folder;
  ir::ParallelSettings::BatchBy batch_by = ir::ParallelSettings::BatchBy::Count;
  std::uint64_t mini_batch_size = 10;  ///< files, or bytes for tables
  /// Files per mini-batch when a table input turns out to be an MLTable
  /// that only lists files; 0: by size (mini_batch_size bytes of files).
  std::uint64_t mini_batch_files = 10;
  /// Where problems located in an MLTable file are reported (may be null).
  ir::DiagnosticEngine* diags = nullptr;
  std::vector<std::string> partition_keys;
  /// A private folder for spilled sort runs and partition files.
  std::string scratch_dir;
  std::size_t sort_memory = 16u << 20;
  std::size_t partition_memory = 8u << 20;
};

/// Produces mini-batches in order. Memory does not grow with the number of
/// files or rows (partitions keep one entry per distinct key).
class BatchSource {
 public:
  virtual ~BatchSource();
  /// The next mini-batch; false at the end, or on a problem (see problem()).
  virtual bool next(MiniBatch& out) = 0;
  /// How many mini-batches there are in all, when known before the last one
  /// is produced (folders by count, partitions); nullopt otherwise.
  virtual std::optional<std::uint64_t> total() const { return std::nullopt; }
  /// Set when next() stopped because of a problem.
  const Problem& problem() const { return problem_; }
  bool failed() const { return !problem_.empty(); }

 protected:
  Problem problem_;
  std::uint64_t produced_ = 0;
};

/// What run() receives: file paths, or table rows.
enum class InputKind : std::uint8_t { Files, Table };
InputKind inputKind(const SourceOptions& opts);

/// Opens the input; on a problem returns null and sets `problem`.
std::unique_ptr<BatchSource> openBatchSource(const SourceOptions& opts,
                                             Problem& problem);

}  // namespace pipec::runtime::parallel
