// The journal, its segments, the committer thread and the gather.
#include "runtime/parallel/journal.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "llvm/ADT/StringExtras.h"
#include "runtime/parallel/batch_source.h"
#include "runtime/parallel/fd_io.h"

namespace pipec::runtime::parallel {

namespace {

const char kJournalHeader[] = "pipec-parallel-journal 1\n";

bool makeDir(const std::string& path) {
  return ::mkdir(path.c_str(), 0755) == 0 || errno == EEXIST;
}

// Removes the files directly in `dir` (not recursive).
void clearDir(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  while (struct dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    ::unlinkat(::dirfd(d), e->d_name, 0);
  }
  ::closedir(d);
}

std::string errnoText() { return std::strerror(errno); }

}  // namespace

std::unique_ptr<Journal> Journal::open(const std::string& dir, bool resume,
                                       Problem& problem) {
  auto fail = [&](const std::string& why) {
    problem = {ir::diag::ParallelStateUnusable, dir, why};
    return nullptr;
  };
  if (!makeDir(dir) || !makeDir(dir + "/segments") || !makeDir(dir + "/tmp"))
    return fail(errnoText());
  std::unique_ptr<Journal> j(new Journal());
  j->dir_ = dir;
  clearDir(dir + "/tmp");
  if (!resume) {
    clearDir(dir + "/segments");
    ::unlink((dir + "/journal").c_str());
  }
  j->segments_dir_fd_ =
      ::open((dir + "/segments").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (j->segments_dir_fd_ < 0) return fail(errnoText());
  j->journal_fd_ =
      ::open((dir + "/journal").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (j->journal_fd_ < 0) return fail(errnoText());
  if (!j->load(problem)) return nullptr;
  return j;
}

Journal::~Journal() {
  if (journal_fd_ >= 0) ::close(journal_fd_);
  if (segments_dir_fd_ >= 0) ::close(segments_dir_fd_);
}

std::string Journal::segmentPath(std::uint32_t id) const {
  return dir_ + "/segments/" + std::to_string(id) + ".rows";
}

bool Journal::load(Problem& problem) {
  std::string text;
  if (!readAll(journal_fd_, text)) {
    problem = {ir::diag::ParallelStateUnusable, dir_, errnoText()};
    return false;
  }
  std::size_t good = 0;  // bytes of whole, valid lines
  std::unordered_map<std::uint32_t, std::uint64_t> segment_size;
  if (llvm::StringRef(text).startswith(kJournalHeader)) {
    good = sizeof(kJournalHeader) - 1;
    llvm::StringRef rest = llvm::StringRef(text).drop_front(good);
    std::int64_t group_ns = 0;
    while (!rest.empty()) {
      std::size_t nl = rest.find('\n');
      if (nl == llvm::StringRef::npos) break;  // torn last line
      llvm::StringRef line = rest.take_front(nl);
      rest = rest.drop_front(nl + 1);
      llvm::SmallVector<llvm::StringRef, 8> f;
      line.split(f, ' ');
      if (f.size() == 2 && f[0] == "T" && !f[1].getAsInteger(10, group_ns)) {
        good += nl + 1;
        continue;
      }
      Committed c;
      c.committed_ns = group_ns;
      Hash128 h;
      std::uint32_t seg;
      if (f.size() != 7 || f[0] != "C" || !Hash128::parse(f[1], h) ||
          f[2].getAsInteger(10, seg) || f[3].getAsInteger(10, c.where.offset) ||
          f[4].getAsInteger(10, c.where.length) ||
          f[5].getAsInteger(10, c.items) || f[6].getAsInteger(10, c.ok))
        break;
      c.where.segment = seg;
      good += nl + 1;
      // A segment that is gone or short invalidates its entries.
      auto it = segment_size.find(seg);
      if (it == segment_size.end()) {
        struct stat st;
        std::uint64_t size = ::stat(segmentPath(seg).c_str(), &st) == 0
                                 ? std::uint64_t(st.st_size)
                                 : 0;
        it = segment_size.emplace(seg, size).first;
      }
      if (c.where.offset + c.where.length <= it->second || c.where.length == 0)
        committed_[h] = std::move(c);
      if (seg >= next_segment_) next_segment_ = seg + 1;
    }
  }
  // Cut a torn tail (or start a new journal), so appends continue cleanly.
  if (good == 0) {
    if (::ftruncate(journal_fd_, 0) != 0 ||
        ::pwrite(journal_fd_, kJournalHeader, sizeof(kJournalHeader) - 1, 0) !=
            ssize_t(sizeof(kJournalHeader) - 1) ||
        ::fdatasync(journal_fd_) != 0) {
      problem = {ir::diag::ParallelStateUnusable, dir_, errnoText()};
      return false;
    }
    good = sizeof(kJournalHeader) - 1;
  } else if (good != text.size() &&
             ::ftruncate(journal_fd_, off_t(good)) != 0) {
    problem = {ir::diag::ParallelStateUnusable, dir_, errnoText()};
    return false;
  }
  if (::lseek(journal_fd_, off_t(good), SEEK_SET) < 0) {
    problem = {ir::diag::ParallelStateUnusable, dir_, errnoText()};
    return false;
  }
  journal_size_ = off_t(good);
  // Segments written after the last journal line are not part of anything.
  if (DIR* d = ::opendir((dir_ + "/segments").c_str())) {
    while (struct dirent* e = ::readdir(d)) {
      std::uint32_t id;
      llvm::StringRef name = e->d_name;
      if (!name.consume_back(".rows") || name.getAsInteger(10, id)) continue;
      if (!segment_size.count(id)) ::unlinkat(::dirfd(d), e->d_name, 0);
      if (id >= next_segment_) next_segment_ = id + 1;
    }
    ::closedir(d);
  }
  return true;
}

const Committed* Journal::find(const Hash128& hash) const {
  auto it = committed_.find(hash);
  return it == committed_.end() ? nullptr : &it->second;
}

void Journal::commit(CommitGroup& g) {
  g.where.clear();
  std::uint32_t seg = 0;
  if (!g.rows.empty()) {
    seg = next_segment_++;
    std::string name = std::to_string(seg) + ".rows";
    std::string tmp = dir_ + "/tmp/" + name;
    int fd =
        ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    bool ok = fd >= 0 && writeAll(fd, g.rows) && ::fdatasync(fd) == 0;
    if (fd >= 0) ::close(fd);
    ok = ok && ::rename(tmp.c_str(), segmentPath(seg).c_str()) == 0 &&
         ::fsync(segments_dir_fd_) == 0;
    if (!ok) {
      g.error_errno = errno;
      g.error = "segment " + name + ": " + errnoText();
      ::unlink(tmp.c_str());
      return;
    }
  }
  std::string lines;
  lines.reserve(g.entries.size() * 64 + 32);
  // The coarse clock is the one file times come from: a file written after
  // the attempts were sent has a time at or after it.
  std::int64_t since = g.since_ns;
  if (!since) {
    struct timespec ts;
    ::clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    since = std::int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
  }
  lines.append("T ");
  appendUInt(lines, std::uint64_t(since));
  lines.push_back('\n');
  for (const CommitGroup::Entry& e : g.entries) {
    Location where;
    if (e.length) where = {seg, e.offset, e.length};
    g.where.push_back(where);
    lines.append("C ");
    lines.append(e.hash.hex());
    lines.push_back(' ');
    appendUInt(lines, where.segment);
    lines.push_back(' ');
    appendUInt(lines, where.offset);
    lines.push_back(' ');
    appendUInt(lines, where.length);
    lines.push_back(' ');
    appendUInt(lines, e.items);
    lines.push_back(' ');
    appendUInt(lines, e.ok);
    lines.push_back('\n');
  }
  if (!writeAll(journal_fd_, lines) || ::fdatasync(journal_fd_) != 0) {
    g.error_errno = errno;
    g.error = "journal: " + errnoText();
    g.where.clear();
    // Lines written before the error must not count, nor be continued.
    if (::ftruncate(journal_fd_, journal_size_) == 0)
      ::lseek(journal_fd_, journal_size_, SEEK_SET);
    return;
  }
  journal_size_ += off_t(lines.size());
}

llvm::Error Journal::gather(const std::vector<Location>& order,
                            const std::string& path) const {
  std::string tmp = path + ".pipec-tmp";
  // The caller names `path`; the messages say what went wrong with it.
  auto fail = [&](const std::string& what) {
    int err = errno;
    std::string why = std::strerror(err);
    if (what != path) why = what + ": " + why;
    return llvm::createStringError(
        std::error_code(err, std::generic_category()), "%s", why.c_str());
  };
  int out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) return fail(tmp);
  std::string buf;
  int seg_fd = -1;
  std::uint32_t seg_open = 0;
  bool ok = true;
  // Results sit in a segment in the order they finished, which is nearly the
  // order of the mini-batches: a window of the segment, read 4 MB at a
  // time, serves most of them without a system call each.
  constexpr std::uint64_t kWindow = 4u << 20, kBehind = 256u << 10;
  std::string window;
  std::uint64_t window_at = 0;
  auto readAt = [&](std::uint64_t off, std::size_t want,
                    std::string& into) -> bool {
    std::size_t have = into.size();
    into.resize(have + want);
    std::size_t got = 0;
    while (got < want) {
      ssize_t n =
          ::pread(seg_fd, &into[have + got], want - got, off_t(off + got));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        into.resize(have);
        return false;
      }
      if (n == 0) break;  // the caller sees the short read
      got += std::size_t(n);
    }
    into.resize(have + got);
    return true;
  };
  // Appends bytes [off, end) of the open segment to buf.
  auto copyRange = [&](std::uint64_t off, std::uint64_t end) -> bool {
    if (off < window_at || end > window_at + window.size()) {
      if (end - off > kWindow - kBehind) {
        // Larger than a window: straight into the output buffer, 4 MB at a
        // time, written out as it fills.
        while (off < end) {
          std::size_t want = std::size_t(std::min(end - off, kWindow));
          std::size_t have = buf.size();
          if (!readAt(off, want, buf)) return false;
          if (buf.size() - have != want) {
            errno = EIO;
            return false;
          }
          off += want;
          if (buf.size() >= kWindow) {
            if (!writeAll(out, buf)) return false;
            buf.clear();
          }
        }
        return true;
      }
      window.clear();
      window_at = off > kBehind ? off - kBehind : 0;
      // Most segments (one per commit group) are far smaller than a window;
      // reading what is there saves clearing 4 MB for a few rows.
      std::uint64_t want = kWindow;
      if (struct stat st; ::fstat(seg_fd, &st) == 0)
        want = std::min<std::uint64_t>(
            want, std::uint64_t(st.st_size) > window_at
                      ? std::uint64_t(st.st_size) - window_at
                      : 0);
      if (!readAt(window_at, std::size_t(want), window)) return false;
      if (end > window_at + window.size()) {
        errno = EIO;  // the journal points past the segment's end
        return false;
      }
    }
    buf.append(window, std::size_t(off - window_at), std::size_t(end - off));
    return true;
  };
  // Adjacent ranges of one segment are copied as one.
  std::size_t i = 0;
  while (ok && i < order.size()) {
    const Location& a = order[i];
    if (a.length == 0) {
      ++i;
      continue;
    }
    std::uint64_t end = a.offset + a.length;
    std::size_t j = i + 1;
    while (j < order.size() &&
           (order[j].length == 0 ||
            (order[j].segment == a.segment && order[j].offset == end))) {
      end += order[j].length;
      ++j;
    }
    if (seg_fd < 0 || seg_open != a.segment) {
      if (seg_fd >= 0) ::close(seg_fd);
      seg_fd = ::open(segmentPath(a.segment).c_str(), O_RDONLY | O_CLOEXEC);
      seg_open = a.segment;
      window.clear();
      window_at = 0;
      if (seg_fd < 0) {
        ok = false;
        break;
      }
    }
    ok = copyRange(a.offset, end);
    if (ok && buf.size() >= (4u << 20)) {
      ok = writeAll(out, buf);
      buf.clear();
    }
    i = j;
  }
  if (seg_fd >= 0) ::close(seg_fd);
  ok = ok && writeAll(out, buf) && ::fsync(out) == 0;
  int err = errno;
  ::close(out);
  if (!ok) {
    ::unlink(tmp.c_str());
    errno = err;
    return fail(tmp);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) return fail(path);
  return llvm::Error::success();
}

// --- Committer
// ----------------------------------------------------------------

Committer::Committer(Journal& journal, std::string records_path)
    : journal_(journal) {
  if (!records_path.empty()) {
    if (cutTornLine(records_path))
      records_fd_ = ::open(records_path.c_str(),
                           O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (records_fd_ < 0) open_error_ = errnoText();
    records_size_ = records_fd_ >= 0 ? ::lseek(records_fd_, 0, SEEK_END) : 0;
  }
  event_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  thread_ = std::thread([this] { loop(); });
}

Committer::~Committer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  if (records_fd_ >= 0) ::close(records_fd_);
  if (event_fd_ >= 0) ::close(event_fd_);
}

void Committer::submit(std::unique_ptr<CommitGroup> group) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(group));
    ++in_flight_;
  }
  cv_.notify_one();
}

std::vector<std::unique_ptr<CommitGroup>> Committer::collect() {
  std::uint64_t v;
  while (::read(event_fd_, &v, sizeof(v)) > 0) {
  }
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::unique_ptr<CommitGroup>> out;
  out.swap(done_);
  return out;
}

void Committer::drain() {
  std::unique_lock<std::mutex> lock(mu_);
  done_cv_.wait(lock, [this] { return in_flight_ == 0; });
}

std::size_t Committer::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return in_flight_;
}

void Committer::loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, nothing left
    std::unique_ptr<CommitGroup> g = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    journal_.commit(*g);
    if (records_fd_ >= 0 && g->error.empty() && !g->records.empty()) {
      if (writeAll(records_fd_, g->records)) {
        records_size_ += off_t(g->records.size());
      } else {
        // No torn record stays, and none follows it.
        g->records_errno = errno;
        g->records_error = errnoText();
        (void)!::ftruncate(records_fd_, records_size_);
        ::close(records_fd_);
        records_fd_ = -1;
      }
    }
    std::string().swap(g->rows);
    lock.lock();
    done_.push_back(std::move(g));
    --in_flight_;
    std::uint64_t one = 1;
    (void)!::write(event_fd_, &one, sizeof(one));
    done_cv_.notify_all();
  }
}

}  // namespace pipec::runtime::parallel
