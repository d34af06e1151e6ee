// Runs a fuzz target (the YAML or the DSL one, linked beside this file) over
// every file of the given folders (or files): the regression check of the
// normal build, where libFuzzer is not linked.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size);

namespace {

int replay(const std::string& path) {
  auto buf = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                         /*RequiresNullTerminator=*/false);
  if (!buf) {
    llvm::errs() << "replay: cannot read " << path << ": "
                 << buf.getError().message() << "\n";
    return 1;
  }
  llvm::StringRef bytes = (*buf)->getBuffer();
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()),
                         bytes.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    llvm::errs() << "usage: " << argv[0] << " DIR|FILE...\n";
    return 2;
  }
  unsigned count = 0;
  int failures = 0;
  for (int i = 1; i < argc; ++i) {
    std::vector<std::string> files;
    if (llvm::sys::fs::is_directory(argv[i])) {
      std::error_code ec;
      for (llvm::sys::fs::recursive_directory_iterator it(argv[i], ec), end;
           it != end && !ec; it.increment(ec))
        if (llvm::sys::fs::is_regular_file(it->path()))
          files.push_back(it->path());
      std::sort(files.begin(), files.end());
    } else {
      files.push_back(argv[i]);
    }
    for (const std::string& f : files) {
      failures += replay(f);
      ++count;
    }
  }
  llvm::outs() << "replayed " << count << " inputs\n";
  if (count == 0) {
    llvm::errs() << "replay: no inputs found\n";
    return 1;
  }
  return failures ? 1 : 0;
}
