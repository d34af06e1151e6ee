// Units of the Kubernetes backend: the ranks of a multi-process command job
// as one Indexed Job pod template (backends/k8s/ranks.h).
#include "backends/k8s/ranks.h"

#include <gtest/gtest.h>

#include <map>

namespace pipec::backends::k8s {
namespace {

using lowering::ProcessSlot;

std::map<std::string, std::string> envOf(const ProcessSlot& s) {
  return {s.env.begin(), s.env.end()};
}

// What a pod of index i gets: the shared values and the derived ones.
std::map<std::string, std::string> podEnv(const RankVariables& v,
                                          std::int64_t i) {
  std::map<std::string, std::string> env(v.shared.begin(), v.shared.end());
  for (const DerivedVariable& d : v.derived)
    env[d.name] = std::to_string(d.at(i));
  return env;
}

TEST(RankVariables, EveryRankOfEveryMpiTopologyIsItsSlot) {
  for (std::int64_t instances = 1; instances <= 5; ++instances)
    for (std::int64_t per = 2; per <= 5; ++per) {
      ir::Resources r;
      r.instance_count = instances;
      r.process_count_per_instance = per;
      std::vector<ProcessSlot> slots =
          lowering::processSlots(ir::JobType::Command, r);
      ASSERT_EQ(slots.size(), std::size_t(instances * per));
      for (std::size_t i = 0; i < slots.size(); ++i)
        slots[i].address = "job-" + std::to_string(i) + ".job";
      lowering::bindEndpoints(ir::JobType::Command, r, slots, {23456});
      llvm::Expected<RankVariables> v = rankVariables(slots);
      ASSERT_TRUE(bool(v)) << llvm::toString(v.takeError());
      for (std::size_t i = 0; i < slots.size(); ++i)
        EXPECT_EQ(podEnv(*v, std::int64_t(i)), envOf(slots[i]))
            << instances << " x " << per << ", rank " << i;
      // The address and the sizes are the same for every rank.
      std::map<std::string, std::string> shared(v->shared.begin(),
                                                v->shared.end());
      EXPECT_EQ(shared["MASTER_ADDR"], "job-0.job");
      EXPECT_EQ(shared["MASTER_PORT"], "23456");
      EXPECT_EQ(shared["WORLD_SIZE"], std::to_string(instances * per));
    }
}

TEST(RankVariables, RulesAreIndexRemainderAndQuotient) {
  ir::Resources r;
  r.instance_count = 3;
  r.process_count_per_instance = 4;
  std::vector<ProcessSlot> slots =
      lowering::processSlots(ir::JobType::Command, r);
  llvm::Expected<RankVariables> v = rankVariables(slots);
  ASSERT_TRUE(bool(v));
  std::map<std::string, std::pair<DerivedVariable::Op, std::int64_t>> rules;
  for (const DerivedVariable& d : v->derived) rules[d.name] = {d.op, d.by};
  using Op = DerivedVariable::Op;
  EXPECT_EQ(rules["RANK"].first, Op::Index);
  EXPECT_EQ(rules["OMPI_COMM_WORLD_RANK"].first, Op::Index);
  EXPECT_EQ(rules["LOCAL_RANK"], std::make_pair(Op::Mod, std::int64_t(4)));
  EXPECT_EQ(rules["OMPI_COMM_WORLD_LOCAL_RANK"],
            std::make_pair(Op::Mod, std::int64_t(4)));
  EXPECT_EQ(rules["NODE_RANK"], std::make_pair(Op::Div, std::int64_t(4)));
}

std::vector<ProcessSlot> slotsWith(const char* name,
                                   std::vector<std::string> values) {
  std::vector<ProcessSlot> slots(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    slots[i].name = "rank-" + std::to_string(i);
    slots[i].env.emplace_back(name, values[i]);
  }
  return slots;
}

TEST(RankVariables, AnotherRuleIsAnErrorNamingTheVariable) {
  for (const auto& values : std::vector<std::vector<std::string>>{
           {"0", "5", "1"},       // no rule
           {"0", "1", "0", "0"},  // i % 2 until it is not
           {"a", "b", "c"},       // not numbers
           {"0", "1", "02"}}) {   // 2, but not as the prologue writes it
    llvm::Expected<RankVariables> v = rankVariables(slotsWith("X", values));
    ASSERT_FALSE(bool(v));
    EXPECT_NE(llvm::toString(v.takeError()).find("'X'"), std::string::npos);
  }
  // A name that is no sh variable cannot be exported by the prologue.
  llvm::Expected<RankVariables> v = rankVariables(slotsWith("A-B", {"0", "1"}));
  ASSERT_FALSE(bool(v));
  EXPECT_NE(llvm::toString(v.takeError()).find("'A-B'"), std::string::npos);
  // Shared values need no rule, whatever they hold.
  v = rankVariables(slotsWith("A-B", {"x y", "x y"}));
  ASSERT_TRUE(bool(v));
  EXPECT_EQ(v->shared.size(), 1u);
}

TEST(RankVariables, SlotsWithOtherNamesAreAnError) {
  std::vector<ProcessSlot> slots = slotsWith("X", {"0", "1"});
  slots[1].env[0].first = "Y";
  llvm::Expected<RankVariables> v = rankVariables(slots);
  ASSERT_FALSE(bool(v));
  EXPECT_NE(llvm::toString(v.takeError()).find("'Y'"), std::string::npos);
  slots[1].env.emplace_back("Z", "1");
  v = rankVariables(slots);
  ASSERT_FALSE(bool(v));
  llvm::consumeError(v.takeError());
}

TEST(RankPrologue, DoesNotGrowWithTheRanks) {
  ir::Resources r;
  r.instance_count = 2;
  r.process_count_per_instance = 2;
  llvm::Expected<RankVariables> small =
      rankVariables(lowering::processSlots(ir::JobType::Command, r));
  r.instance_count = 100;
  r.process_count_per_instance = 8;
  llvm::Expected<RankVariables> large =
      rankVariables(lowering::processSlots(ir::JobType::Command, r));
  ASSERT_TRUE(small && large);
  std::string a = rankPrologue(*small, 4), b = rankPrologue(*large, 800);
  EXPECT_EQ(std::count(a.begin(), a.end(), '\n'),
            std::count(b.begin(), b.end(), '\n'));
  EXPECT_LT(b.size(), a.size() + 16);
  EXPECT_NE(b.find("LOCAL_RANK=$((i % 8))"), std::string::npos) << b;
  EXPECT_NE(b.find("NODE_RANK=$((i / 8))"), std::string::npos) << b;
  EXPECT_NE(b.find("not a rank of 0..799"), std::string::npos) << b;
  EXPECT_EQ(b.substr(b.size() - 10), "exec \"$@\"\n");
}

}  // namespace
}  // namespace pipec::backends::k8s
