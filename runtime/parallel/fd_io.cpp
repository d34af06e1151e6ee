// Whole reads and writes.
#include "runtime/parallel/fd_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pipec::runtime::parallel {

bool writeAll(int fd, llvm::StringRef data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data = data.drop_front(std::size_t(n));
  }
  return true;
}

bool readAll(int fd, std::string& out) {
  char buf[1 << 16];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (n == 0) return true;
    out.append(buf, std::size_t(n));
  }
}

bool writeFileAtomically(const std::string& path, llvm::StringRef text) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  bool ok = writeAll(fd, text) && ::fsync(fd) == 0;
  int err = ok ? 0 : errno;
  if (::close(fd) != 0 && ok) {
    ok = false;
    err = errno;
  }
  if (ok && ::rename(tmp.c_str(), path.c_str()) != 0) {
    ok = false;
    err = errno;
  }
  if (!ok) {
    ::unlink(tmp.c_str());  // nothing half-written stays behind
    errno = err;
  }
  return ok;
}

bool cutTornLine(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT;
  off_t size = ::lseek(fd, 0, SEEK_END);
  off_t end = size;
  char buf[4096];
  bool ok = size >= 0;
  while (ok && end > 0) {
    off_t from = end > off_t(sizeof(buf)) ? end - off_t(sizeof(buf)) : 0;
    ssize_t n = ::pread(fd, buf, std::size_t(end - from), from);
    if (n != end - from) {
      ok = false;
      break;
    }
    const void* nl = ::memrchr(buf, '\n', std::size_t(n));
    if (nl) {
      end = from + (static_cast<const char*>(nl) - buf) + 1;
      break;
    }
    end = from;
  }
  if (ok && end != size) ok = ::ftruncate(fd, end) == 0;
  int err = errno;
  ::close(fd);
  errno = err;
  return ok;
}

}  // namespace pipec::runtime::parallel
