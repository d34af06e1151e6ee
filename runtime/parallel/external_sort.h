// Sorting a stream of names in bounded memory: sorted runs spilled to disk and
// merged.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

namespace pipec::runtime::parallel {

/// Sorts names (byte strings without NUL) in byte order. Keeps up to
/// `memory_limit` bytes of names in memory; beyond that, sorted runs go to
/// files in `spill_dir` and are merged while reading. Memory stays bounded
/// whatever the number of names.
class ExternalSorter {
 public:
  ExternalSorter(std::string spill_dir, std::size_t memory_limit);
  ~ExternalSorter();
  ExternalSorter(const ExternalSorter&) = delete;
  ExternalSorter& operator=(const ExternalSorter&) = delete;

  llvm::Error add(llvm::StringRef name);
  /// Ends input; names are then read back with next().
  llvm::Error finish();
  /// The next name in order; false at the end. After an I/O error, false with
  /// error() set.
  bool next(std::string& out);
  const std::string& error() const { return error_; }
  /// Names added.
  std::uint64_t count() const { return count_; }
  /// Runs written to disk so far (for tests).
  std::size_t spilledRuns() const { return runs_.size(); }

 private:
  struct Run;
  void sortChunk();
  llvm::Error spill();

  std::string spill_dir_;
  std::size_t memory_limit_;
  std::string arena_;                   // names, each followed by NUL
  std::vector<std::uint32_t> offsets_;  // into arena_
  std::size_t cursor_ = 0;              // next in-memory name (no runs)
  std::vector<std::unique_ptr<Run>> runs_;
  std::vector<std::size_t> heap_;  // indices into runs_, merge order
  bool finished_ = false;
  std::uint64_t count_ = 0;
  std::string error_;
};

}  // namespace pipec::runtime::parallel
