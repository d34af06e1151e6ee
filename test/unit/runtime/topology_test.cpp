// Processes per job type and the environment that ties them together.
#include "runtime/topology.h"

#include <gtest/gtest.h>

#include <map>

#include "llvm/Support/JSON.h"

namespace pipec::runtime {
namespace {

// Hands out 5000, 5001, ... and remembers what it was asked.
class FakePorts : public PortPicker {
 public:
  llvm::Expected<std::uint16_t> pick(
      llvm::ArrayRef<std::string> addresses) override {
    asked.push_back(addresses.vec());
    return std::uint16_t(5000 + asked.size() - 1);
  }
  std::vector<std::vector<std::string>> asked;
};

std::map<std::string, std::string> envOf(const ProcessSlot& s) {
  return std::map<std::string, std::string>(s.env.begin(), s.env.end());
}

std::vector<ProcessSlot> slotsFor(ir::JobType jt, ir::Resources r,
                                  FakePorts& ports) {
  std::vector<ProcessSlot> slots = processSlots(jt, r);
  llvm::Error e = assignTopologyEnv(jt, r, slots, ports);
  EXPECT_FALSE(bool(e));
  llvm::consumeError(std::move(e));
  return slots;
}

TEST(Topology, CommandIsOneProcessWithNothingAdded) {
  FakePorts ports;
  ir::Resources r;
  r.instance_count = 3;
  auto slots = slotsFor(ir::JobType::Command, r, ports);
  ASSERT_EQ(slots.size(), 1u);
  EXPECT_EQ(slots[0].name, "main");
  EXPECT_TRUE(slots[0].env.empty());
  EXPECT_TRUE(ports.asked.empty());
}

TEST(Topology, PyTorchRanks) {
  FakePorts ports;
  ir::Resources r;
  r.instance_count = 3;
  auto slots = slotsFor(ir::JobType::PyTorch, r, ports);
  ASSERT_EQ(slots.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    auto env = envOf(slots[i]);
    EXPECT_EQ(slots[i].name, "rank-" + std::to_string(i));
    EXPECT_EQ(env["RANK"], std::to_string(i));
    EXPECT_EQ(env["WORLD_SIZE"], "3");
    EXPECT_EQ(env["MASTER_ADDR"], "127.0.0.1");
    EXPECT_EQ(env["MASTER_PORT"], "5000");
    EXPECT_FALSE(env.count("WORKER_ADDRS"));
    EXPECT_FALSE(env.count("LOCAL_RANK"));
  }
  EXPECT_EQ(ports.asked,
            (std::vector<std::vector<std::string>>{{"127.0.0.1"}}));
}

TEST(Topology, PyTorchProcessesPerInstance) {
  FakePorts ports;
  ir::Resources r;
  r.instance_count = 2;
  r.process_count_per_instance = 2;
  auto slots = slotsFor(ir::JobType::PyTorch, r, ports);
  ASSERT_EQ(slots.size(), 4u);
  auto env = envOf(slots[3]);
  EXPECT_EQ(env["RANK"], "3");
  EXPECT_EQ(env["LOCAL_RANK"], "1");
  EXPECT_EQ(env["NODE_RANK"], "1");
  EXPECT_EQ(env["WORLD_SIZE"], "4");
}

TEST(Topology, XGBoostWorkersHaveAddressesOfTheirOwn) {
  FakePorts ports;
  ir::Resources r;
  auto one = slotsFor(ir::JobType::XGBoost, r, ports);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_FALSE(envOf(one[0]).count("WORKER_ADDRS"));
  EXPECT_FALSE(envOf(one[0]).count("WORKER_PORT"));
  EXPECT_EQ(envOf(one[0])["RANK"], "0");
  r.instance_count = 3;
  FakePorts more;
  auto slots = slotsFor(ir::JobType::XGBoost, r, more);
  ASSERT_EQ(slots.size(), 3u);
  auto env = envOf(slots[2]);
  EXPECT_EQ(env["WORKER_ADDRS"], "127.0.1.1,127.0.1.2");
  EXPECT_EQ(env["WORKER_PORT"], "5001");
  EXPECT_EQ(env["MASTER_PORT"], "5000");
  EXPECT_EQ(slots[1].address, "127.0.1.1");
  // The worker port was checked on every worker address.
  EXPECT_EQ(more.asked[1],
            (std::vector<std::string>{"127.0.1.1", "127.0.1.2"}));
}

TEST(Topology, TensorFlowConfigPerProcess) {
  FakePorts ports;
  ir::Resources r;
  r.tf_chief = 1;
  r.tf_ps = 1;
  r.tf_worker = 2;
  r.tf_evaluator = 1;
  auto slots = slotsFor(ir::JobType::TensorFlow, r, ports);
  ASSERT_EQ(slots.size(), 5u);
  std::vector<std::string> names;
  for (const auto& s : slots) names.push_back(s.name);
  EXPECT_EQ(names, (std::vector<std::string>{"chief-0", "ps-0", "worker-0",
                                             "worker-1", "evaluator-0"}));
  for (const ProcessSlot& s : slots) {
    auto config = llvm::json::parse(envOf(s)["TF_CONFIG"]);
    ASSERT_TRUE(bool(config));
    const llvm::json::Object* o = config->getAsObject();
    const llvm::json::Object* task = o->getObject("task");
    EXPECT_EQ(task->getString("type")->str(), s.role);
    EXPECT_EQ(*task->getInteger("index"), s.index);
    const llvm::json::Object* cluster = o->getObject("cluster");
    EXPECT_EQ(cluster->getArray("chief")->size(), 1u);
    EXPECT_EQ(cluster->getArray("worker")->size(), 2u);
    EXPECT_EQ(cluster->getArray("ps")->size(), 1u);
    EXPECT_FALSE(cluster->getArray("evaluator"));
    EXPECT_EQ(*(*cluster->getArray("worker"))[1].getAsString(),
              "127.0.1.2:5000");
    EXPECT_EQ(*(*cluster->getArray("chief"))[0].getAsString(),
              "127.0.0.1:5000");
  }
  EXPECT_TRUE(slots[0].decides);
  EXPECT_FALSE(slots[1].decides);
  EXPECT_TRUE(slots[2].decides);
  EXPECT_FALSE(slots[4].decides);
  EXPECT_EQ(ports.asked[0].size(), 5u);
}

TEST(Topology, TensorFlowWithoutRolesUsesInstanceCountWorkers) {
  FakePorts ports;
  ir::Resources r;
  auto one = slotsFor(ir::JobType::TensorFlow, r, ports);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].name, "worker-0");
  EXPECT_FALSE(envOf(one[0]).count("TF_CONFIG"));  // not distributed
  r.instance_count = 2;
  auto two = slotsFor(ir::JobType::TensorFlow, r, ports);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].address, "127.0.0.1");
  EXPECT_TRUE(envOf(two[1]).count("TF_CONFIG"));
}

TEST(Topology, ElasticBatchWorkers) {
  FakePorts ports;
  ir::Resources r;
  r.instance_count = 2;
  auto slots = slotsFor(ir::JobType::ElasticBatch, r, ports);
  ASSERT_EQ(slots.size(), 2u);
  EXPECT_EQ(envOf(slots[1])["ELASTICBATCH_CONFIG"],
            R"({"task":{"type":"worker","index":1},"environment":"local"})");
}

TEST(Topology, MpiStyleCommandRanks) {
  FakePorts ports;
  ir::Resources r;
  r.instance_count = 2;
  r.process_count_per_instance = 3;
  auto slots = slotsFor(ir::JobType::Command, r, ports);
  ASSERT_EQ(slots.size(), 6u);
  auto env = envOf(slots[4]);
  EXPECT_EQ(env["OMPI_COMM_WORLD_RANK"], "4");
  EXPECT_EQ(env["OMPI_COMM_WORLD_SIZE"], "6");
  EXPECT_EQ(env["OMPI_COMM_WORLD_LOCAL_RANK"], "1");
  EXPECT_EQ(env["OMPI_COMM_WORLD_LOCAL_SIZE"], "3");
}

TEST(Topology, LoopbackPortsAreFreeAndNeverRepeated) {
  LoopbackPortPicker picker;
  std::set<std::uint16_t> seen;
  for (int i = 0; i < 20; ++i) {
    auto p = picker.pick({std::string("127.0.0.1"), std::string("127.0.3.1")});
    ASSERT_TRUE(bool(p)) << llvm::toString(p.takeError());
    EXPECT_TRUE(seen.insert(*p).second);
  }
}

}  // namespace
}  // namespace pipec::runtime
