// The bounded-memory sorter behind folder enumeration.
#include <algorithm>
#include <random>
#include <vector>

#include "runtime/parallel/external_sort.h"
#include "test/unit/runtime/parallel_test_util.h"

namespace pipec::runtime::parallel {
namespace {

std::vector<std::string> drain(ExternalSorter& s) {
  std::vector<std::string> out;
  std::string name;
  while (s.next(name)) out.push_back(name);
  EXPECT_EQ(s.error(), "");
  return out;
}

std::vector<std::string> shuffledNames(std::size_t n) {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < n; ++i)
    names.push_back("dir" + std::to_string(i % 7) + "/file-" +
                    std::to_string(i * 7919 % 100003));
  std::mt19937 rng(7);
  std::shuffle(names.begin(), names.end(), rng);
  return names;
}

TEST(ParallelSort, InMemory) {
  TempDir tmp;
  ExternalSorter s(tmp.path(), 1 << 20);
  std::vector<std::string> names = shuffledNames(1000);
  for (const std::string& n : names) ASSERT_FALSE(bool(s.add(n)));
  ASSERT_FALSE(bool(s.finish()));
  EXPECT_EQ(s.spilledRuns(), 0u);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(drain(s), names);
}

TEST(ParallelSort, SpillsAndMerges) {
  TempDir tmp;
  ExternalSorter s(tmp.path(), 4096);  // a few hundred names per run
  std::vector<std::string> names = shuffledNames(20000);
  for (const std::string& n : names) ASSERT_FALSE(bool(s.add(n)));
  ASSERT_FALSE(bool(s.finish()));
  EXPECT_GT(s.spilledRuns(), 50u);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(drain(s), names);
}

TEST(ParallelSort, Empty) {
  TempDir tmp;
  ExternalSorter s(tmp.path(), 4096);
  ASSERT_FALSE(bool(s.finish()));
  EXPECT_TRUE(drain(s).empty());
}

}  // namespace
}  // namespace pipec::runtime::parallel
