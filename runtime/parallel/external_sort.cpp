// Sorted runs in memory and on disk, merged with a heap.
#include "runtime/parallel/external_sort.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace pipec::runtime::parallel {

namespace {

llvm::Error ioError(const std::string& what) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), "%s: %s",
                                 what.c_str(), std::strerror(errno));
}

}  // namespace

// One spilled run, read back through a buffer.
struct ExternalSorter::Run {
  std::string path;
  int fd = -1;
  std::string buf;
  std::size_t pos = 0;
  bool eof = false;
  std::string current;  // the name at the head of this run

  ~Run() {
    if (fd >= 0) ::close(fd);
    if (!path.empty()) ::unlink(path.c_str());
  }

  // Loads the next name into `current`; false at the end.
  bool advance(std::string& error) {
    while (true) {
      std::size_t nul = buf.find('\0', pos);
      if (nul != std::string::npos) {
        current.assign(buf, pos, nul - pos);
        pos = nul + 1;
        return true;
      }
      if (eof) return false;
      buf.erase(0, pos);
      pos = 0;
      std::size_t have = buf.size();
      buf.resize(have + (256 << 10));
      ssize_t n = ::read(fd, &buf[have], buf.size() - have);
      if (n < 0) {
        if (errno == EINTR) {
          buf.resize(have);
          continue;
        }
        error = path + ": " + std::strerror(errno);
        return false;
      }
      buf.resize(have + std::size_t(n));
      if (n == 0) eof = true;
    }
  }
};

ExternalSorter::ExternalSorter(std::string spill_dir, std::size_t memory_limit)
    : spill_dir_(std::move(spill_dir)), memory_limit_(memory_limit) {}

ExternalSorter::~ExternalSorter() = default;

llvm::Error ExternalSorter::add(llvm::StringRef name) {
  if (!arena_.empty() && arena_.size() + name.size() + 1 > memory_limit_)
    if (llvm::Error e = spill()) return e;
  ++count_;
  offsets_.push_back(std::uint32_t(arena_.size()));
  arena_.append(name.data(), name.size());
  arena_.push_back('\0');
  return llvm::Error::success();
}

void ExternalSorter::sortChunk() {
  const char* base = arena_.data();
  std::sort(offsets_.begin(), offsets_.end(),
            [base](std::uint32_t a, std::uint32_t b) {
              return std::strcmp(base + a, base + b) < 0;
            });
}

llvm::Error ExternalSorter::spill() {
  sortChunk();
  auto run = std::make_unique<Run>();
  run->path = spill_dir_ + "/run-" + std::to_string(runs_.size());
  run->fd =
      ::open(run->path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (run->fd < 0) return ioError(run->path);
  std::string out;
  out.reserve(arena_.size());
  for (std::uint32_t off : offsets_) {
    const char* s = arena_.data() + off;
    out.append(s, std::strlen(s) + 1);
  }
  std::size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::write(run->fd, out.data() + done, out.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ioError(run->path);
    }
    done += std::size_t(n);
  }
  if (::lseek(run->fd, 0, SEEK_SET) < 0) return ioError(run->path);
  runs_.push_back(std::move(run));
  arena_.clear();
  offsets_.clear();
  return llvm::Error::success();
}

llvm::Error ExternalSorter::finish() {
  finished_ = true;
  if (runs_.empty()) {
    sortChunk();
    return llvm::Error::success();
  }
  if (!offsets_.empty())
    if (llvm::Error e = spill()) return e;
  std::string().swap(arena_);
  std::vector<std::uint32_t>().swap(offsets_);
  for (std::size_t i = 0; i < runs_.size(); ++i) {
    if (runs_[i]->advance(error_)) heap_.push_back(i);
    if (!error_.empty())
      return llvm::createStringError(llvm::inconvertibleErrorCode(), "%s",
                                     error_.c_str());
  }
  auto greater = [this](std::size_t a, std::size_t b) {
    return runs_[a]->current > runs_[b]->current;
  };
  std::make_heap(heap_.begin(), heap_.end(), greater);
  return llvm::Error::success();
}

bool ExternalSorter::next(std::string& out) {
  if (runs_.empty()) {
    if (cursor_ >= offsets_.size()) return false;
    out.assign(arena_.data() + offsets_[cursor_++]);
    return true;
  }
  if (heap_.empty()) return false;
  auto greater = [this](std::size_t a, std::size_t b) {
    return runs_[a]->current > runs_[b]->current;
  };
  std::pop_heap(heap_.begin(), heap_.end(), greater);
  std::size_t r = heap_.back();
  out.swap(runs_[r]->current);
  if (runs_[r]->advance(error_)) {
    std::push_heap(heap_.begin(), heap_.end(), greater);
  } else {
    heap_.pop_back();
    if (!error_.empty()) return false;
  }
  return true;
}

}  // namespace pipec::runtime::parallel
