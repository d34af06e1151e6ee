// Exactly-once results of a parallel step: rows committed in segments by
// rename, a durable journal keyed by each mini-batch's hash, a committer
// thread that batches fsyncs, and the final gather in mini-batch order.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "llvm/Support/Error.h"
#include "runtime/parallel/problem.h"
#include "runtime/parallel/text.h"

namespace pipec::runtime::parallel {

/// Where a committed mini-batch's rows are.
struct Location {
  std::uint32_t segment = 0;
  std::uint64_t offset = 0, length = 0;
};

/// A mini-batch result that an earlier run committed.
struct Committed {
  Location where;
  std::uint64_t items = 0, ok = 0;
  /// Its group's time (nanoseconds since the epoch): files changed at or
  /// after it may not be in the result.
  std::int64_t committed_ns = 0;
};

/// Finished mini-batches made durable together.
struct CommitGroup {
  struct Entry {
    std::uint64_t index = 0;
    Hash128 hash;
    std::uint64_t offset = 0, length = 0;  ///< in `rows`
    std::uint64_t items = 0, ok = 0;
  };
  std::uint64_t id = 0;
  /// The earliest time (coarse wall clock, ns) an entry's attempt was sent:
  /// a resume runs an entry again when one of its files changed at or after
  /// it. 0: the time of the commit.
  std::int64_t since_ns = 0;
  std::string rows;
  std::vector<Entry> entries;
  /// Lines for logs/mini_batches.jsonl, written once the group is durable.
  std::string records;
  /// After commit: where each entry's rows are (parallel to entries).
  std::vector<Location> where;
  std::string error;    ///< set when the commit failed
  int error_errno = 0;  ///< its errno (ENOSPC: the disk is full)
  /// Set when the records could not be written to logs/mini_batches.jsonl
  /// (the commit itself succeeded).
  std::string records_error;
  int records_errno = 0;
};

/// The state folder of one parallel step:
///   journal            per group "T time_ns" (CommitGroup::since_ns), then
///                      per mini-batch
///                      "C hash segment offset length items ok"
///   segments/N.rows    rows of the mini-batches of commit group N
///   tmp/               segments being written
class Journal {
 public:
  /// Opens the state in `dir`, creating it. With `resume`, loads what earlier
  /// runs committed (a torn last line is cut off; entries whose segment is
  /// missing are dropped); without, removes earlier state.
  static std::unique_ptr<Journal> open(const std::string& dir, bool resume,
                                       Problem& problem);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  /// The committed result for mini-batches with these items, or null.
  const Committed* find(const Hash128& hash) const;
  std::size_t committedCount() const { return committed_.size(); }

  /// Makes `group` durable: rows to tmp/, fdatasync, rename into segments/,
  /// fsync the folder, then one journal line per entry and fdatasync. Fills
  /// group.where; on failure (a full disk included) sets group.error, cuts
  /// the journal back to where it was and commits nothing, so a later
  /// commit or a resume finds it whole. Called by one thread at a time (the
  /// committer); never touches what find() reads.
  void commit(CommitGroup& group);

  /// Writes the rows of `order` (mini-batch order; length 0 entries skipped)
  /// to `path` through a temporary file and a rename. The error's code is
  /// the errno that stopped it.
  llvm::Error gather(const std::vector<Location>& order,
                     const std::string& path) const;

  const std::string& dir() const { return dir_; }

  /// A segment number no commit uses, for rows that come from elsewhere
  /// (the step cache links them in at segmentPath()). Such a segment is not
  /// in the journal: a resume finds them again where they came from.
  std::uint32_t reserveSegment() { return next_segment_++; }
  std::string segmentPath(std::uint32_t id) const;

 private:
  Journal() = default;
  bool load(Problem& problem);

  std::string dir_;
  int journal_fd_ = -1;
  off_t journal_size_ = 0;  // bytes of whole lines in the journal
  int segments_dir_fd_ = -1;
  std::atomic<std::uint32_t> next_segment_{1};  // the committer takes some
  std::unordered_map<Hash128, Committed, Hash128Hasher> committed_;
};

/// Runs Journal::commit on a thread of its own so that fsyncs never stall
/// dispatch. Groups are committed in submission order; each finished group
/// comes back through collect(), and notifyFd() becomes readable when one
/// does.
class Committer {
 public:
  /// `records_path` (logs/mini_batches.jsonl) is appended to; a torn last
  /// line is cut first.
  Committer(Journal& journal, std::string records_path);
  /// Set when `records_path` could not be opened.
  const std::string& openError() const { return open_error_; }
  ~Committer();
  Committer(const Committer&) = delete;
  Committer& operator=(const Committer&) = delete;

  void submit(std::unique_ptr<CommitGroup> group);
  /// Groups committed (or failed) since the last call, in order.
  std::vector<std::unique_ptr<CommitGroup>> collect();
  /// Waits until every submitted group is back from the thread.
  void drain();
  int notifyFd() const { return event_fd_; }
  std::size_t pending() const;

 private:
  void loop();

  Journal& journal_;
  int records_fd_ = -1;
  off_t records_size_ = 0;
  std::string open_error_;
  int event_fd_ = -1;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable done_cv_;
  std::deque<std::unique_ptr<CommitGroup>> queue_;
  std::vector<std::unique_ptr<CommitGroup>> done_;
  std::size_t in_flight_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace pipec::runtime::parallel
