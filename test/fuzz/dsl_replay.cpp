// Runs the DSL fuzz target over seed files and folders, for builds without
// libFuzzer (the g++ build runs the seeds as a ctest).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size);

namespace {

int runFile(const std::string& path) {
  auto mb = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                        /*RequiresNullTerminator=*/false);
  if (!mb) {
    std::fprintf(stderr, "dsl_replay: cannot read %s\n", path.c_str());
    return 1;
  }
  llvm::StringRef b = (*mb)->getBuffer();
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(b.data()),
                         b.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int failed = 0, ran = 0;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (!llvm::sys::fs::is_directory(arg)) {
      failed += runFile(arg);
      ++ran;
      continue;
    }
    std::vector<std::string> files;
    std::error_code ec;
    for (llvm::sys::fs::recursive_directory_iterator it(arg, ec), end;
         it != end && !ec; it.increment(ec))
      if (!llvm::sys::fs::is_directory(it->path())) files.push_back(it->path());
    std::sort(files.begin(), files.end());
    for (const std::string& f : files) {
      failed += runFile(f);
      ++ran;
    }
  }
  std::printf("%d passed, %d failed\n", ran - failed, failed);
  return failed || ran == 0 ? 1 : 0;
}
