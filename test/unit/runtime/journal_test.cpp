// The resume journal: what it keeps across sessions and what it ignores.
#include "runtime/journal.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "llvm/Support/FileSystem.h"

namespace pipec::runtime {
namespace {

std::string tempPath() {
  llvm::SmallString<128> p;
  llvm::sys::fs::createTemporaryFile("journal", "txt", p);
  return std::string(p);
}

TEST(Journal, KeepsFinishedStepsAcrossSessions) {
  std::string path = tempPath();
  {
    Journal j;
    ASSERT_FALSE(bool(j.open(path)));
    EXPECT_FALSE(j.finished("a", 1));
    j.record("a", 0x1234, 0);
    j.record("b.inner", 0xfff, 1);
    EXPECT_TRUE(j.dirty());  // the second entry waits for the next sync
    j.sync();
    EXPECT_FALSE(j.dirty());
  }
  Journal j;
  ASSERT_FALSE(bool(j.open(path)));
  EXPECT_TRUE(j.finished("a", 0x1234));
  EXPECT_TRUE(j.finished("b.inner", 0xfff));
  EXPECT_FALSE(j.finished("a", 0x1235));  // a changed step does not count
  EXPECT_FALSE(j.finished("c", 0x1234));
  ::unlink(path.c_str());
}

TEST(Journal, IgnoresATornLastLineAndGarbage) {
  std::string path = tempPath();
  {
    std::ofstream f(path);
    f << "ok 00000000000000aa a\nnonsense\nok zz b\nok 00000000000000bb tor";
  }
  {
    Journal j;
    ASSERT_FALSE(bool(j.open(path)));
    EXPECT_TRUE(j.finished("a", 0xaa));
    EXPECT_FALSE(j.finished("tor", 0xbb));
    EXPECT_FALSE(j.finished("b", 0));
    j.record("c", 0xcc, 0);
  }
  Journal j;
  ASSERT_FALSE(bool(j.open(path)));
  EXPECT_TRUE(j.finished("c", 0xcc));  // on a line of its own
  ::unlink(path.c_str());
}

TEST(Journal, SyncsInBatches) {
  std::string path = tempPath();
  Journal j;
  ASSERT_FALSE(bool(j.open(path, 800)));
  j.record("a", 1, 850);
  EXPECT_TRUE(j.dirty());
  j.record("a", 1, 1000);
  EXPECT_FALSE(j.dirty());  // a batch interval after opening
  j.record("b", 2, 1000 + Journal::kSyncIntervalMs / 2);
  EXPECT_TRUE(j.dirty());
  j.maybeSync(1000 + Journal::kSyncIntervalMs / 2 + 1);
  EXPECT_TRUE(j.dirty());
  j.maybeSync(1000 + Journal::kSyncIntervalMs);
  EXPECT_FALSE(j.dirty());
  ::unlink(path.c_str());
}

}  // namespace
}  // namespace pipec::runtime
