// The record of finished steps that `pipec run --resume` trusts.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "runtime/cache.h"

namespace pipec::runtime {

/// An append-only file of lines `ok <key> <step>` (the step's cache key).
/// Entries are written as steps finish (a kill -9 of pipec loses none) and made
/// durable against a machine crash in batches: fdatasync at most every
/// kSyncIntervalMs, and on sync(). A line lost in a crash only means that step
/// runs again.
class Journal {
 public:
  Journal() = default;
  /// Closes without a sync: call sync() first when the entries matter.
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  /// Opens `path` for appending, first reading the entries already there
  /// (a torn last line is ignored). `now_ms` starts the first batch.
  llvm::Error open(llvm::StringRef path, std::uint64_t now_ms = 0);
  /// True when `step` finished with this `key` in an earlier session.
  bool finished(llvm::StringRef step, const Digest& key) const;
  /// Records that `step` finished. `now_ms` is a monotonic clock reading
  /// used to batch fdatasync calls.
  void record(llvm::StringRef step, const Digest& key, std::uint64_t now_ms);
  /// Syncs when entries are waiting and the last sync is older than
  /// kSyncIntervalMs.
  void maybeSync(std::uint64_t now_ms);
  /// Makes every recorded entry durable.
  void sync();
  bool dirty() const { return dirty_; }

  static constexpr std::uint64_t kSyncIntervalMs = 200;

 private:
  int fd_ = -1;
  bool dirty_ = false;
  std::uint64_t last_sync_ms_ = 0;
  std::map<std::string, Digest> done_;
};

}  // namespace pipec::runtime
