// RealFileSystem::makeTree on a real folder: a fresh tree, the same tree
// again over it (a resumed run), and what stops it.
#include "runtime/file_system.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "parallel_test_util.h"

namespace pipec::runtime {
namespace {

using parallel::TempDir;

std::string linkTarget(const std::string& path) {
  char buf[256];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
  return n < 0 ? "" : std::string(buf, std::size_t(n));
}

using K = TreeEntry::Kind;
using FK = FileSystem::Kind;

TEST(RealFileSystem, MakesATreeAndMakesItAgainOverItself) {
  TempDir t;
  RealFileSystem fs;
  std::string root = t.path() + "/step";
  std::vector<TreeEntry> tree{{K::Dir, "a", ""},
                              {K::Dir, "a/b", ""},
                              {K::File, "a/b/f.json", "{}\n"},
                              {K::Link, "a/l", "../elsewhere"}};
  ASSERT_FALSE(bool(fs.makeTree(root, tree)));
  EXPECT_EQ(fs.kind(root + "/a/b"), FK::Directory);
  EXPECT_EQ(*fs.readFile(root + "/a/b/f.json"), "{}\n");
  EXPECT_EQ(linkTarget(root + "/a/l"), "../elsewhere");

  // Over an earlier tree: folders stay (with what is in them), files and
  // links are replaced, a folder where a link goes too.
  ASSERT_FALSE(bool(fs.writeFile(root + "/a/b/kept", "x")));
  ASSERT_FALSE(bool(fs.makeDir(root + "/a/m")));
  tree[2].data = "{\"n\": 1}\n";
  tree[3].data = "../other";
  tree.push_back({K::Link, "a/m", "../m"});
  ASSERT_FALSE(bool(fs.makeTree(root, tree)));
  EXPECT_EQ(*fs.readFile(root + "/a/b/f.json"), "{\"n\": 1}\n");
  EXPECT_EQ(*fs.readFile(root + "/a/b/kept"), "x");
  EXPECT_EQ(linkTarget(root + "/a/l"), "../other");
  EXPECT_EQ(linkTarget(root + "/a/m"), "../m");
}

TEST(RealFileSystem, ATreeBlockedByAFileNamesThePath) {
  TempDir t;
  RealFileSystem fs;
  std::string root = t.path() + "/step";
  ASSERT_FALSE(bool(fs.makeDir(root)));
  ASSERT_FALSE(bool(fs.writeFile(root + "/logs", "")));
  llvm::Error e = fs.makeTree(root, {{K::Dir, "logs", ""}});
  ASSERT_TRUE(bool(e));
  EXPECT_EQ(llvm::toString(std::move(e)),
            "cannot create folder '" + root + "/logs': File exists");
  // A root whose parent is missing.
  e = fs.makeTree(t.path() + "/no/step", {});
  ASSERT_TRUE(bool(e));
  EXPECT_NE(llvm::toString(std::move(e)).find("No such file"),
            std::string::npos);
}

}  // namespace
}  // namespace pipec::runtime
