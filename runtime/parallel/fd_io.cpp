// Whole reads and writes.
#include "runtime/parallel/fd_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

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
  int err = errno;
  ::close(fd);
  errno = err;
  return ok && ::rename(tmp.c_str(), path.c_str()) == 0;
}

}  // namespace pipec::runtime::parallel
