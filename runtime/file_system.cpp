// RealFileSystem: plain POSIX calls, reflink-or-copy for code folders.
#include "runtime/file_system.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "llvm/ADT/SmallString.h"

namespace pipec::runtime {

namespace {

llvm::Error fail(llvm::StringRef what, llvm::StringRef path, int err) {
  return llvm::createStringError(std::error_code(err, std::generic_category()),
                                 "%s '%s': %s", what.str().c_str(),
                                 path.str().c_str(), std::strerror(err));
}

struct Fd {
  int fd;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

bool writeAll(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= std::size_t(w);
  }
  return true;
}

// Removes the entries of the open directory `dir` recursively.
bool clearDir(int dir) {
  DIR* d = ::fdopendir(dir);
  if (!d) {
    ::close(dir);
    return false;
  }
  bool ok = true;
  while (dirent* e = ::readdir(d)) {
    llvm::StringRef name(e->d_name);
    if (name == "." || name == "..") continue;
    struct stat st;
    if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      ok = false;
      continue;
    }
    if (S_ISDIR(st.st_mode)) {
      int sub = ::openat(::dirfd(d), e->d_name,
                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0 || !clearDir(sub)) ok = false;
      if (::unlinkat(::dirfd(d), e->d_name, AT_REMOVEDIR) != 0) ok = false;
    } else if (::unlinkat(::dirfd(d), e->d_name, 0) != 0) {
      ok = false;
    }
  }
  ::closedir(d);
  return ok;
}

}  // namespace

llvm::Error copyFile(const std::string& from, const std::string& to,
                     mode_t mode) {
  Fd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.fd < 0) return fail("cannot read", from, errno);
  Fd out(::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                mode & 07777));
  if (out.fd < 0) return fail("cannot create", to, errno);
  if (::ioctl(out.fd, FICLONE, in.fd) == 0) return llvm::Error::success();
  for (;;) {
    ssize_t n = ::copy_file_range(in.fd, nullptr, out.fd, nullptr, 1 << 30, 0);
    if (n == 0) return llvm::Error::success();
    if (n > 0) continue;
    if (errno == EINTR) continue;
    if (errno != EXDEV && errno != ENOSYS && errno != EINVAL &&
        errno != EOPNOTSUPP)
      return fail("cannot copy to", to, errno);
    break;
  }
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(in.fd, buf, sizeof buf);
    if (n == 0) return llvm::Error::success();
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("cannot read", from, errno);
    }
    if (!writeAll(out.fd, buf, std::size_t(n)))
      return fail("cannot write", to, errno);
  }
}

FileSystem::~FileSystem() = default;

llvm::Error FileSystem::replaceFile(llvm::StringRef path,
                                    llvm::StringRef data) {
  return writeFile(path, data);
}

llvm::Error FileSystem::makeTree(llvm::StringRef root,
                                 llvm::ArrayRef<TreeEntry> entries) {
  if (llvm::Error e = makeDir(root)) return e;
  for (const TreeEntry& t : entries) {
    std::string path = (root + "/" + t.path).str();
    llvm::Error e = llvm::Error::success();
    switch (t.kind) {
      case TreeEntry::Kind::Dir:
        e = makeDir(path);
        break;
      case TreeEntry::Kind::File:
        e = writeFile(path, t.data);
        break;
      case TreeEntry::Kind::Link:
        e = symlink(t.data, path);
        if (e) {
          // Something a resumed run left there.
          llvm::consumeError(std::move(e));
          e = removeTree(path);
          if (!e) e = symlink(t.data, path);
        }
        break;
    }
    if (e) return e;
  }
  return llvm::Error::success();
}

FileSystem::Kind RealFileSystem::kind(llvm::StringRef path) {
  struct stat st;
  if (::stat(path.str().c_str(), &st) != 0) return Kind::Missing;
  if (S_ISDIR(st.st_mode)) return Kind::Directory;
  if (S_ISREG(st.st_mode)) return Kind::File;
  return Kind::Other;
}

llvm::Error RealFileSystem::makeDir(llvm::StringRef path) {
  std::string p = path.str();
  if (::mkdir(p.c_str(), 0755) == 0) return llvm::Error::success();
  int err = errno;
  if (err == EEXIST && kind(p) == Kind::Directory)
    return llvm::Error::success();
  return fail("cannot create folder", p, err);
}

llvm::Error RealFileSystem::makeDirs(llvm::StringRef path) {
  std::string p = path.str();
  if (::mkdir(p.c_str(), 0755) == 0) return llvm::Error::success();
  if (errno == EEXIST && kind(p) == Kind::Directory)
    return llvm::Error::success();
  if (errno != ENOENT) return fail("cannot create folder", p, errno);
  llvm::StringRef parent = path.rtrim('/').rsplit('/').first;
  if (!parent.empty() && parent != path)
    if (llvm::Error e = makeDirs(parent)) return e;
  return makeDir(path);
}

llvm::Error RealFileSystem::writeFile(llvm::StringRef path,
                                      llvm::StringRef data) {
  std::string p = path.str();
  Fd fd(::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (fd.fd < 0) return fail("cannot write", p, errno);
  if (!writeAll(fd.fd, data.data(), data.size()))
    return fail("cannot write", p, errno);
  return llvm::Error::success();
}

llvm::Error RealFileSystem::replaceFile(llvm::StringRef path,
                                        llvm::StringRef data) {
  std::string tmp = path.str() + ".tmp-" + std::to_string(::getpid());
  if (llvm::Error e = writeFile(tmp, data)) return e;
  if (::rename(tmp.c_str(), path.str().c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return fail("cannot replace", path, err);
  }
  return llvm::Error::success();
}

llvm::Expected<std::string> RealFileSystem::readFile(llvm::StringRef path) {
  std::string p = path.str();
  Fd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.fd < 0) return fail("cannot read", p, errno);
  std::string out;
  char buf[1 << 14];
  for (;;) {
    ssize_t n = ::read(fd.fd, buf, sizeof buf);
    if (n == 0) return out;
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("cannot read", p, errno);
    }
    out.append(buf, std::size_t(n));
  }
}

llvm::Error RealFileSystem::symlink(llvm::StringRef target,
                                    llvm::StringRef link) {
  std::string l = link.str();
  if (::symlink(target.str().c_str(), l.c_str()) != 0)
    return fail("cannot create link", l, errno);
  return llvm::Error::success();
}

llvm::Error RealFileSystem::copyTree(llvm::StringRef from, llvm::StringRef to) {
  std::string src = from.str();
  DIR* d = ::opendir(src.c_str());
  if (!d) return fail("cannot read folder", src, errno);
  llvm::Error result = llvm::Error::success();
  while (dirent* e = ::readdir(d)) {
    llvm::StringRef name(e->d_name);
    if (name == "." || name == "..") continue;
    std::string s = src + "/" + e->d_name;
    std::string t = to.str() + "/" + e->d_name;
    struct stat st;
    if (::lstat(s.c_str(), &st) != 0) {
      result = fail("cannot read", s, errno);
      break;
    }
    llvm::Error err = llvm::Error::success();
    if (S_ISDIR(st.st_mode)) {
      if (::mkdir(t.c_str(), st.st_mode & 07777) != 0 && errno != EEXIST)
        err = fail("cannot create folder", t, errno);
      else
        err = copyTree(s, t);
    } else if (S_ISLNK(st.st_mode)) {
      char buf[4096];
      ssize_t n = ::readlink(s.c_str(), buf, sizeof buf - 1);
      if (n < 0)
        err = fail("cannot read link", s, errno);
      else
        err = symlink(llvm::StringRef(buf, std::size_t(n)), t);
    } else if (S_ISREG(st.st_mode)) {
      err = copyFile(s, t, st.st_mode);
    }
    if (err) {
      result = std::move(err);
      break;
    }
  }
  ::closedir(d);
  return result;
}

bool RealFileSystem::isEmptyDir(llvm::StringRef dir) {
  Fd fd(::open(dir.str().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.fd < 0) return false;
  // One read of the entries: a folder with only "." and ".." is empty.
  alignas(8) char buf[1024];
  long n = ::syscall(SYS_getdents64, fd.fd, buf, sizeof buf);
  for (long off = 0; off < n;) {
    auto* e = reinterpret_cast<struct dirent64*>(buf + off);
    llvm::StringRef name(e->d_name);
    if (name != "." && name != "..") return false;
    off += e->d_reclen;
  }
  return n >= 0;
}

llvm::Error RealFileSystem::makeTree(llvm::StringRef root,
                                     llvm::ArrayRef<TreeEntry> entries) {
  if (llvm::Error e = makeDir(root)) return e;
  std::string r = root.str();
  Fd dir(::open(r.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (dir.fd < 0) return fail("cannot open folder", r, errno);
  for (const TreeEntry& t : entries) {
    const char* p = t.path.c_str();
    switch (t.kind) {
      case TreeEntry::Kind::Dir: {
        if (::mkdirat(dir.fd, p, 0755) == 0) break;
        int err = errno;
        struct stat st;
        if (err == EEXIST && ::fstatat(dir.fd, p, &st, 0) == 0 &&
            S_ISDIR(st.st_mode))
          break;
        return fail("cannot create folder", r + "/" + t.path, err);
      }
      case TreeEntry::Kind::File: {
        Fd fd(::openat(dir.fd, p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                       0644));
        if (fd.fd < 0 || !writeAll(fd.fd, t.data.data(), t.data.size()))
          return fail("cannot write", r + "/" + t.path, errno);
        break;
      }
      case TreeEntry::Kind::Link: {
        if (::symlinkat(t.data.c_str(), dir.fd, p) == 0) break;
        // Something a resumed run left there.
        if (errno == EEXIST) {
          if (llvm::Error e = removeTree(r + "/" + t.path)) return e;
          if (::symlinkat(t.data.c_str(), dir.fd, p) == 0) break;
        }
        return fail("cannot create link", r + "/" + t.path, errno);
      }
    }
  }
  return llvm::Error::success();
}

llvm::Error RealFileSystem::removeTree(llvm::StringRef path) {
  std::string p = path.str();
  struct stat st;
  if (::lstat(p.c_str(), &st) != 0)
    return errno == ENOENT ? llvm::Error::success()
                           : fail("cannot remove", p, errno);
  if (!S_ISDIR(st.st_mode)) {
    if (::unlink(p.c_str()) != 0) return fail("cannot remove", p, errno);
    return llvm::Error::success();
  }
  int fd = ::open(p.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 || !clearDir(fd) || ::rmdir(p.c_str()) != 0)
    return fail("cannot remove", p, errno);
  return llvm::Error::success();
}

}  // namespace pipec::runtime
