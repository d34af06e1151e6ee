// StringVecMap against std::map: the same entries in the same order after
// any sequence of insertions and lookups.
#include "ir/vec_map.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

namespace pipec::ir {
namespace {

template <class V>
void expectSame(const StringVecMap<V>& got,
                const std::map<std::string, V>& want) {
  ASSERT_EQ(got.size(), want.size());
  auto w = want.begin();
  for (const auto& [k, v] : got) {
    EXPECT_EQ(k, w->first);
    EXPECT_EQ(v, w->second);
    ++w;
  }
}

TEST(StringVecMap, MatchesStdMapUnderRandomOperations) {
  std::mt19937 rng(7);
  const std::vector<std::string> keys = {
      "",  "a", "b", "in_a", "in_b", "in",   "in_a_",
      "z", "A", "_", "ab",   "aa",   "data", "\xc3\xa9"};
  StringVecMap<int> got;
  std::map<std::string, int> want;
  for (int step = 0; step < 5000; ++step) {
    if (step % 20 == 0) {  // maps of a few entries, as a step's inputs
      got.clear();
      want.clear();
    }
    const std::string& k = keys[rng() % keys.size()];
    int v = static_cast<int>(rng() % 100);
    switch (rng() % 3) {
      case 0:
        got[k] = v;
        want[k] = v;
        break;
      case 1: {
        auto [it, fresh] = got.try_emplace(k, v);
        auto [wit, wfresh] = want.try_emplace(k, v);
        EXPECT_EQ(fresh, wfresh);
        EXPECT_EQ(it->second, wit->second);
        break;
      }
      case 2: {
        auto it = got.find(k);
        auto wit = want.find(k);
        ASSERT_EQ(it == got.end(), wit == want.end());
        if (wit != want.end()) {
          EXPECT_EQ(it->second, wit->second);
        }
        EXPECT_EQ(got.count(k), want.count(k));
        break;
      }
    }
    expectSame(got, want);
  }
}

TEST(StringVecMap, AtFindsWhatIsThere) {
  StringVecMap<std::string> m;
  m["out"] = "o";
  m["in"] = "i";
  EXPECT_EQ(m.at("in"), "i");
  EXPECT_EQ(m.at("out"), "o");
  EXPECT_EQ(m.begin()->first, "in");
}

}  // namespace
}  // namespace pipec::ir
