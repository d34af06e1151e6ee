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
    EXPECT_FALSE(j.finished("a", Digest{0, 1}));
    j.record("a", Digest{0, 0x1234}, 0);
    j.record("b.inner", Digest{0, 0xfff}, 1);
    EXPECT_TRUE(j.dirty());  // the second entry waits for the next sync
    j.sync();
    EXPECT_FALSE(j.dirty());
  }
  Journal j;
  ASSERT_FALSE(bool(j.open(path)));
  EXPECT_TRUE(j.finished("a", Digest{0, 0x1234}));
  EXPECT_TRUE(j.finished("b.inner", Digest{0, 0xfff}));
  EXPECT_FALSE(
      j.finished("a", Digest{0, 0x1235}));  // a changed step does not count
  EXPECT_FALSE(j.finished("c", Digest{0, 0x1234}));
  ::unlink(path.c_str());
}

TEST(Journal, IgnoresATornLastLineAndGarbage) {
  std::string path = tempPath();
  {
    std::ofstream f(path);
    f << "ok 000000000000000000000000000000aa a\nnonsense\nok zz b\n"
         "ok 000000000000000000000000000000bb tor";
  }
  {
    Journal j;
    ASSERT_FALSE(bool(j.open(path)));
    EXPECT_TRUE(j.finished("a", Digest{0, 0xaa}));
    EXPECT_FALSE(j.finished("tor", Digest{0, 0xbb}));
    EXPECT_FALSE(j.finished("b", Digest{0, 0}));
    j.record("c", Digest{0, 0xcc}, 0);
  }
  Journal j;
  ASSERT_FALSE(bool(j.open(path)));
  EXPECT_TRUE(j.finished("c", Digest{0, 0xcc}));  // on a line of its own
  ::unlink(path.c_str());
}

TEST(Journal, SyncsInBatches) {
  std::string path = tempPath();
  Journal j;
  ASSERT_FALSE(bool(j.open(path, 800)));
  j.record("a", Digest{0, 1}, 850);
  EXPECT_TRUE(j.dirty());
  j.record("a", Digest{0, 1}, 1000);
  EXPECT_FALSE(j.dirty());  // a batch interval after opening
  j.record("b", Digest{0, 2}, 1000 + Journal::kSyncIntervalMs / 2);
  EXPECT_TRUE(j.dirty());
  j.maybeSync(1000 + Journal::kSyncIntervalMs / 2 + 1);
  EXPECT_TRUE(j.dirty());
  j.maybeSync(1000 + Journal::kSyncIntervalMs);
  EXPECT_FALSE(j.dirty());
  ::unlink(path.c_str());
}

}  // namespace
}  // namespace pipec::runtime
