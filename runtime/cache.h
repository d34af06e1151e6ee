// The step cache across runs (WORKDIR/cache/): content digests with a stat
// record per file, the key of a step, and the store of finished steps'
// outputs that later runs restore instead of running the step.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

namespace pipec::runtime {

struct RunPlan;
struct StepPlan;

/// A 128-bit XXH3 digest.
struct Digest {
  std::uint64_t hi = 0, lo = 0;
  /// 32 lower-case hex digits.
  std::string hex() const;
  /// The digest of 32 hex digits, or nothing.
  static std::optional<Digest> parse(llvm::StringRef hex);
  bool operator==(const Digest& o) const { return hi == o.hi && lo == o.lo; }
  bool operator!=(const Digest& o) const { return !(*this == o); }
};

/// XXH3-128 over a sequence of fields; each field is length-prefixed, so
/// ("ab", "c") and ("a", "bc") differ.
class KeyHasher {
 public:
  KeyHasher();
  ~KeyHasher();
  KeyHasher(const KeyHasher&) = delete;
  KeyHasher& operator=(const KeyHasher&) = delete;
  void add(llvm::StringRef field);
  void add(std::uint64_t n);
  void add(const Digest& d);
  Digest finish() const;

 private:
  void* state_;
};

/// The digest of `data` alone.
Digest digestOf(llvm::StringRef data);

/// What identifies a file's contents without reading it (as git's index and
/// ninja's log): device, inode, size, modification and change times.
struct FileStamp {
  std::uint64_t dev = 0, ino = 0, size = 0;
  std::int64_t mtime_ns = 0, ctime_ns = 0;
  bool operator==(const FileStamp& o) const {
    return dev == o.dev && ino == o.ino && size == o.size &&
           mtime_ns == o.mtime_ns && ctime_ns == o.ctime_ns;
  }
};

/// Content digests of files and folders, with a record per file: a file
/// whose stamp matches its record is not read again. A record taken in the
/// same second as the file's last change (or change of status) is not
/// trusted: the file could change again within that second without a new
/// stamp, so it is hashed again next time (git's "racily clean" rule).
class ContentHasher {
 public:
  /// A file (followed when a link) or a folder, recursively: names, kinds,
  /// contents of files, targets of links that lead to folders.
  llvm::Expected<Digest> tree(llvm::StringRef path);
  /// One regular file.
  llvm::Expected<Digest> file(llvm::StringRef path);

  /// The records as text, and back (unreadable lines are ignored).
  std::string save() const;
  void load(llvm::StringRef text);

  /// stat calls, files read and bytes read since construction.
  std::uint64_t stats() const { return stats_; }
  std::uint64_t reads() const { return reads_; }
  std::uint64_t bytesRead() const { return bytes_read_; }

  /// The clock used for the racy rule, in seconds (tests replace it).
  std::int64_t (*now_seconds)() = nullptr;

 private:
  struct Record {
    FileStamp stamp;
    Digest digest;
    bool trusted = false;
  };
  llvm::Expected<Digest> fileWithStat(const std::string& path,
                                      const struct stat& st);
  llvm::Error walk(const std::string& path, KeyHasher& h, int depth);
  std::map<std::string, Record> records_;
  std::uint64_t stats_ = 0, reads_ = 0, bytes_read_ = 0;
};

/// The stamp of `st`.
FileStamp stampOf(const struct stat& st);

/// The cache key of step `index` of `plan` (RUNTIME.md, "Step cache"): its
/// lowered definition with the run directory taken out, the contents of its
/// local code folder, the contents of inputs from outside the run and the
/// keys of the steps it reads from (steps before it in `plan`, whose keys
/// are set). `content` null: paths stand for their contents (plan tests).
/// For a parallel step, `batch_part` (when given) gets the step's part of
/// its mini-batches' keys: the same but for the data it splits and the
/// number of instances (RUNTIME.md, "Step cache").
llvm::Expected<Digest> stepKey(const RunPlan& plan, std::size_t index,
                               ContentHasher* content,
                               Digest* batch_part = nullptr);

/// One stored step, as `pipec cache ls` shows it.
struct CacheEntryInfo {
  std::string key;  ///< hex
  std::string step, run;
  std::int64_t created = 0, used = 0;  ///< Unix seconds
  std::uint64_t bytes = 0;             ///< of its files (on disk)
  std::uint64_t files = 0;
  /// Below the cache: "entries/<key>" (a step) or "batches/<name>" (the
  /// mini-batch results of one run of a parallel step).
  std::string where;
};

/// WORKDIR/cache: `files` (the content records), `entries/<key>/` (one
/// finished step: `manifest`, `out/<channel>/`, `logs/`), `locks/<key>`,
/// `tmp/` (entries being stored). An entry appears by a rename once its
/// files and manifest are on disk, and is used and stored under a lock of
/// its own (flock), so concurrent runs sharing a workdir neither see half
/// entries nor mix two.
class StepCache {
 public:
  explicit StepCache(std::string dir) : dir_(std::move(dir)) {}
  const std::string& dir() const { return dir_; }

  /// Reads the content records (a missing file is an empty record).
  void loadRecords(ContentHasher& content) const;
  /// Writes them back (by a rename).
  llvm::Error saveRecords(const ContentHasher& content) const;

  struct Hit {
    std::string run;  ///< the run that stored it
  };
  /// Restores the entry of `key` into step `s`: its outputs (hard links,
  /// else reflinks or copies) and its logs. Nothing when there is no
  /// entry. An entry whose files no longer match its manifest (changed by
  /// hand) is removed and `dropped` says why.
  llvm::Expected<std::optional<Hit>> restore(const StepPlan& s,
                                             const Digest& key,
                                             std::string& dropped);
  /// Stores the outputs and logs of finished step `s` of run `run` under
  /// `key`. An existing entry stays unless `replace`.
  llvm::Error store(const StepPlan& s, const Digest& key, llvm::StringRef run,
                    bool replace);

  /// Every entry (unreadable ones are left out), oldest use first.
  std::vector<CacheEntryInfo> list() const;
  /// Removes entries not used for `older_than_s` seconds (negative: no
  /// limit), then the least recently used until the rest fit in
  /// `max_bytes` (negative: no limit), and what interrupted stores left.
  /// Returns what was removed.
  llvm::Expected<std::vector<CacheEntryInfo>> prune(std::int64_t older_than_s,
                                                    std::int64_t max_bytes,
                                                    std::int64_t now_s);

 private:
  std::string entryDir(const Digest& key) const;
  std::string dir_;
};

/// Mini-batch results of parallel steps in the step cache (RUNTIME.md,
/// "Step cache"): `batches/<part>.<id>/` is a pack, the results one run of
/// a step stored: `rows/N.rows` (hard links to the run's journal segments,
/// already synced), `manifest` (step, run, time, each file's inode, size
/// and modification time, then per mini-batch "b key file offset length
/// items"), `used`. `part` is the step's part of the keys (stepKey()); a
/// mini-batch's key adds its items. A pack appears by a rename once its
/// files and manifest are on disk, under `locks/<name>`, like an entry.
class BatchCache {
 public:
  explicit BatchCache(std::string dir) : dir_(std::move(dir)) {}

  /// Where a mini-batch's rows are.
  struct Result {
    std::string file;  ///< absolute
    std::uint64_t offset = 0, length = 0, items = 0;
    std::size_t pack = 0;
    bool hit = false;
  };
  /// Loads the packs of `part`. A pack whose files changed since it was
  /// stored (by hand) is removed, with why in `dropped`.
  llvm::Error load(const Digest& part, std::vector<std::string>& dropped);
  std::size_t size() const { return index_.size(); }
  /// The result for `key`, or null.
  Result* find(const Digest& key);
  /// Makes `to` a new name of the file of `r` (a copy across file
  /// systems), under its pack's lock, and marks the pack used.
  llvm::Error take(Result& r, const std::string& to);

  struct Stored {
    Digest key;
    std::string file;  ///< absolute; linked into the pack
    std::uint64_t offset = 0, length = 0, items = 0;
  };
  /// Stores `results` as a new pack of `part`, then removes the loaded
  /// packs it makes redundant (every result of them was taken and is in
  /// the new one).
  llvm::Error store(const Digest& part, llvm::StringRef step,
                    llvm::StringRef run, const std::vector<Stored>& results);

 private:
  struct Pack {
    std::string name;
    std::size_t results = 0, hits = 0;
  };
  std::string dir_;
  std::vector<Pack> packs_;
  std::map<std::pair<std::uint64_t, std::uint64_t>, Result> index_;
};

/// "7d", "12h", "30m", "45s", "2w" in seconds; nothing for anything else.
std::optional<std::int64_t> parseAge(llvm::StringRef text);
/// "10G", "500M", "1.5T", "4096" (bytes; K/M/G/T are powers of 1024, an
/// optional trailing B or iB) in bytes; nothing for anything else.
std::optional<std::int64_t> parseSize(llvm::StringRef text);

}  // namespace pipec::runtime
