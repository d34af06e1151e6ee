// Journal: read on open, append with write(2), fdatasync in batches.
#include "runtime/journal.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "llvm/ADT/SmallVector.h"

namespace pipec::runtime {

Journal::~Journal() {
  if (fd_ >= 0) ::close(fd_);
}

llvm::Error Journal::open(llvm::StringRef path, std::uint64_t now_ms) {
  last_sync_ms_ = now_ms;
  std::string p = path.str();
  fd_ = ::open(p.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0)
    return llvm::createStringError(
        std::error_code(errno, std::generic_category()), "cannot open '%s': %s",
        p.c_str(), std::strerror(errno));
  std::string text;
  char buf[1 << 14];
  ssize_t n;
  while ((n = ::pread(fd_, buf, sizeof buf, off_t(text.size()))) > 0)
    text.append(buf, std::size_t(n));
  llvm::SmallVector<llvm::StringRef, 64> lines;
  llvm::StringRef(text).split(lines, '\n');
  // The last piece has no newline: empty, or a line cut short by a crash.
  lines.pop_back();
  for (llvm::StringRef line : lines) {
    auto [tag, rest] = line.split(' ');
    auto [hex, step] = rest.split(' ');
    std::optional<Digest> key = Digest::parse(hex);
    if (tag != "ok" || step.empty() || !key) continue;
    done_[step.str()] = *key;
  }
  if (!text.empty() && text.back() != '\n') {
    // Start the next entry on a line of its own.
    while (::write(fd_, "\n", 1) < 0 && errno == EINTR) {
    }
  }
  return llvm::Error::success();
}

bool Journal::finished(llvm::StringRef step, const Digest& key) const {
  auto it = done_.find(step.str());
  return it != done_.end() && it->second == key;
}

void Journal::record(llvm::StringRef step, const Digest& key,
                     std::uint64_t now_ms) {
  if (fd_ < 0) return;
  std::string line = "ok " + key.hex() + " " + step.str() + "\n";
  // One write: O_APPEND keeps concurrent lines whole.
  while (::write(fd_, line.data(), line.size()) < 0 && errno == EINTR) {
  }
  dirty_ = true;
  maybeSync(now_ms);
}

void Journal::maybeSync(std::uint64_t now_ms) {
  if (!dirty_ || now_ms - last_sync_ms_ < kSyncIntervalMs) return;
  sync();
  last_sync_ms_ = now_ms;
}

void Journal::sync() {
  if (fd_ < 0 || !dirty_) return;
  ::fdatasync(fd_);
  dirty_ = false;
}

}  // namespace pipec::runtime
