// The YAML reader against the yaml-cpp oracle: the same tree (kind, style,
// value, tag, location of every node) for every YAML file of the third-party
// corpus, of this repository and of the fuzz seeds, and on chosen inputs.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "test/fuzz/yaml_cpp_oracle.h"

namespace pipec::test::yaml_oracle {
namespace {

bool isYamlFile(llvm::StringRef path) {
  llvm::StringRef name = llvm::sys::path::filename(path);
  return name.endswith(".yaml") || name.endswith(".yml") || name == "MLTable";
}

// Every YAML file under `dir`, skipping build trees and hidden folders.
std::vector<std::string> yamlFilesUnder(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (llvm::sys::fs::recursive_directory_iterator it(dir, ec), end;
       it != end && !ec; it.increment(ec)) {
    llvm::StringRef name = llvm::sys::path::filename(it->path());
    if (it->type() == llvm::sys::fs::file_type::directory_file) {
      if (name.startswith(".") || name.startswith("build")) it.no_push();
      continue;
    }
    if (isYamlFile(it->path())) out.push_back(it->path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Every file of a flat folder (fuzz seeds and corpora hold any name).
std::vector<std::string> filesIn(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
       it.increment(ec))
    if (it->type() == llvm::sys::fs::file_type::regular_file)
      out.push_back(it->path());
  std::sort(out.begin(), out.end());
  return out;
}

void expectSameTrees(const std::vector<std::string>& files) {
  for (const std::string& f : files) {
    auto buf = llvm::MemoryBuffer::getFile(f);
    ASSERT_TRUE(bool(buf)) << f;
    EXPECT_EQ(compareReaders((*buf)->getBuffer()), "") << f;
  }
}

TEST(YamlOracle, ThirdPartyCorpus) {
  std::string dir = PIPEC_CORPUS_DIR;
  if (!llvm::sys::fs::is_directory(dir))
    GTEST_SKIP() << "no corpus at " << dir
                 << " (set PIPEC_CORPUS_DIR when configuring)";
  std::vector<std::string> files = yamlFilesUnder(dir);
  EXPECT_GT(files.size(), 100u);
  expectSameTrees(files);
}

TEST(YamlOracle, RepositoryFiles) {
  std::vector<std::string> files = yamlFilesUnder(PIPEC_SOURCE_DIR);
  EXPECT_GT(files.size(), 20u);
  expectSameTrees(files);
}

TEST(YamlOracle, FuzzSeeds) {
  std::string root = std::string(PIPEC_SOURCE_DIR) + "/test/fuzz/";
  std::vector<std::string> files = filesIn(root + "seeds");
  std::vector<std::string> corpus = filesIn(root + "yaml_corpus");
  files.insert(files.end(), corpus.begin(), corpus.end());
  EXPECT_GT(files.size(), 5u);
  expectSameTrees(files);
}

}  // namespace
}  // namespace pipec::test::yaml_oracle
