// The floor of the compile benchmark: LLVM's YAML parser (the one pipec's
// reader uses) walking every node of the files, scalar values included, and
// nothing else.
#include <cstdio>

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/YAMLParser.h"

namespace {

std::size_t walk(llvm::yaml::Node* n) {
  std::size_t count = 1;
  if (auto* s = llvm::dyn_cast<llvm::yaml::ScalarNode>(n)) {
    llvm::SmallString<64> storage;
    count += s->getValue(storage).size() & 0;
  } else if (auto* m = llvm::dyn_cast<llvm::yaml::MappingNode>(n)) {
    for (llvm::yaml::KeyValueNode& kv : *m) {
      if (llvm::yaml::Node* k = kv.getKey()) count += walk(k);
      if (llvm::yaml::Node* v = kv.getValue()) count += walk(v);
    }
  } else if (auto* q = llvm::dyn_cast<llvm::yaml::SequenceNode>(n)) {
    for (llvm::yaml::Node& item : *q) count += walk(&item);
  }
  return count;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_yaml_walk FILE...\n");
    return 2;
  }
  std::size_t nodes = 0;
  for (int i = 1; i < argc; ++i) {
    auto buf = llvm::MemoryBuffer::getFile(argv[i]);
    if (!buf) {
      std::fprintf(stderr, "bench_yaml_walk: cannot read %s\n", argv[i]);
      return 1;
    }
    llvm::SourceMgr sm;
    llvm::yaml::Stream stream((*buf)->getMemBufferRef(), sm);
    for (llvm::yaml::Document& doc : stream)
      if (llvm::yaml::Node* root = doc.getRoot()) nodes += walk(root);
    if (stream.failed()) return 1;
  }
  std::printf("%zu\n", nodes);
  return 0;
}
