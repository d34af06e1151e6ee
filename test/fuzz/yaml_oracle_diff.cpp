// Compares pipec's YAML reader with the yaml-cpp oracle on files: prints
// each file where they differ and exits 1 if any did.
#include <cstdio>

#include "llvm/Support/MemoryBuffer.h"
#include "test/fuzz/yaml_cpp_oracle.h"

int main(int argc, char** argv) {
  int differ = 0;
  for (int i = 1; i < argc; ++i) {
    auto buf = llvm::MemoryBuffer::getFile(argv[i]);
    if (!buf) {
      std::fprintf(stderr, "%s: cannot read\n", argv[i]);
      differ = 1;
      continue;
    }
    std::string d =
        pipec::test::yaml_oracle::compareReaders((*buf)->getBuffer());
    if (!d.empty()) {
      std::printf("%s: %s\n", argv[i], d.c_str());
      differ = 1;
    }
  }
  return differ;
}
