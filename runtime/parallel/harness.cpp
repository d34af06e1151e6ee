// Writing the embedded Python modules out.
#include "runtime/parallel/harness.h"

#include <fcntl.h>
#include <unistd.h>

#include "runtime/parallel/fd_io.h"

namespace pipec::runtime::parallel {

bool writePythonModules(const std::string& dir) {
  const std::pair<const char*, llvm::StringRef> modules[] = {
      {"pipec_harness.py", harnessSource()},
      {"pipec_tables.py", tablesSource()},
      {"pipec_elasticbatch.py", elasticBatchClientSource()},
  };
  for (const auto& [name, text] : modules) {
    std::string path = dir + "/" + name;
    std::string old;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      bool read = readAll(fd, old);
      ::close(fd);
      if (read && old == text) continue;
    }
    if (!writeFileAtomically(path, text)) return false;
  }
  return true;
}

}  // namespace pipec::runtime::parallel
