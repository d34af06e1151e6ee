// Depth-first readdir walk; d_type decides, stat only for links and unknowns.
#include "runtime/parallel/file_list.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace pipec::runtime::parallel {

namespace {

struct OpenDir {
  DIR* dir;
  std::string rel;  // "" for the root, else "a/b/"
  dev_t dev;
  ino_t ino;
};

llvm::Error sysError(const std::string& what, int err) {
  return llvm::createStringError(std::error_code(err, std::generic_category()),
                                 "%s: %s", what.c_str(), std::strerror(err));
}

}  // namespace

llvm::Error listFiles(const std::string& root,
                      const std::function<llvm::Error(llvm::StringRef)>& add) {
  std::vector<OpenDir> stack;
  auto closeAll = [&] {
    for (OpenDir& d : stack) ::closedir(d.dir);
    stack.clear();
  };
  auto push = [&](int fd, std::string rel) -> llvm::Error {
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      int err = errno;
      ::close(fd);
      return sysError(root + "/" + rel, err);
    }
    for (const OpenDir& d : stack)
      if (d.dev == st.st_dev && d.ino == st.st_ino) {
        ::close(fd);
        return llvm::Error::success();  // a link back into the walk
      }
    DIR* dir = ::fdopendir(fd);
    if (!dir) {
      int err = errno;
      ::close(fd);
      return sysError(root + "/" + rel, err);
    }
    stack.push_back({dir, std::move(rel), st.st_dev, st.st_ino});
    return llvm::Error::success();
  };
  int rootfd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) return sysError(root, errno);
  if (llvm::Error e = push(rootfd, "")) return e;
  std::string path;
  while (!stack.empty()) {
    OpenDir& top = stack.back();
    errno = 0;
    struct dirent* ent = ::readdir(top.dir);
    if (!ent) {
      int err = errno;
      std::string rel = top.rel;
      ::closedir(top.dir);
      stack.pop_back();
      if (err) {
        closeAll();
        return sysError(root + "/" + rel, err);
      }
      continue;
    }
    const char* name = ent->d_name;
    if (name[0] == '.' &&
        (name[1] == '\0' || (name[1] == '.' && name[2] == '\0')))
      continue;
    unsigned char type = ent->d_type;
    if (type == DT_LNK || type == DT_UNKNOWN) {
      struct stat st;
      if (::fstatat(::dirfd(top.dir), name, &st, 0) != 0)
        continue;  // a dangling link
      type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : 0;
    }
    path.assign(top.rel);
    path.append(name);
    if (type == DT_REG) {
      if (llvm::Error e = add(path)) {
        closeAll();
        return e;
      }
    } else if (type == DT_DIR) {
      int fd =
          ::openat(::dirfd(top.dir), name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0) {
        int err = errno;
        closeAll();
        return sysError(root + "/" + path, err);
      }
      path.push_back('/');
      if (llvm::Error e = push(fd, path)) {
        closeAll();
        return e;
      }
    }
  }
  return llvm::Error::success();
}

}  // namespace pipec::runtime::parallel
