// The runner with real processes on a temporary folder: the elasticbatch
// master seam, a PyTorch-style job's environment, and a failing step's
// report.
#include "runtime/local_runner.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "frontend/session.h"
#include "llvm/Support/FileSystem.h"

namespace pipec::runtime {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// Records what the runner asks of an AIMaster and hands workers an address.
class FakeMaster : public ElasticBatchMaster {
 public:
  llvm::Error start(const StepPlan& step, ir::EnvList& env) override {
    started.push_back(step.name);
    env.emplace_back("SHARD_SERVICE", "127.0.0.1:7777");
    return llvm::Error::success();
  }
  void stop(const StepPlan& step, bool ok) override {
    stopped.push_back(step.name + (ok ? ":ok" : ":failed"));
  }
  std::vector<std::string> started, stopped;
};

struct RealRun {
  std::string dir;
  frontend::Session session;
  ir::StoringDiagnosticConsumer diags;
  std::unique_ptr<ir::Module> module;
  std::optional<RunPlan> plan;
  RealFileSystem fs;
  std::vector<StepStatus> statuses;
  std::vector<StepReport> reports;

  RealRun(const char* yaml, ElasticBatchMaster* master = nullptr) {
    llvm::SmallString<128> p;
    llvm::sys::fs::createUniqueDirectory("runner-test", p);
    dir = std::string(p);
    session.setDiagnosticConsumer(diags);
    session.update(dir + "/p.yaml", yaml);
    auto checked = session.check(dir + "/p.yaml");
    if (!checked) std::abort();  // the IR does not verify: a bug
    module = std::move(checked->module);
    ir::FlatPipeline flat = ir::flatten(*module->root, {});
    PlanOptions po;
    po.run_id = "r";
    po.run_dir = dir + "/runs/r";
    llvm::sys::fs::create_directories(po.run_dir);
    plan = buildPlan(*module->root, flat, po, fs, session.diags());
    if (!plan) return;
    ProcessSet procs;
    RunObserver quiet;
    RunnerOptions ro;
    ro.elastic_master = master;
    ro.grace_ms = 1000;
    LocalRunner runner(*plan, fs, procs, nullptr, session.diags(), quiet, ro);
    std::vector<std::vector<std::size_t>> deps;
    for (const StepPlan& s : plan->steps) deps.push_back(s.deps);
    Scheduler sched(deps, 2);
    sched.run(runner);
    for (std::size_t i = 0; i < plan->steps.size(); ++i)
      statuses.push_back(sched.status(i));
    reports = runner.reports();
  }
  ~RealRun() { llvm::sys::fs::remove_directories(dir); }
  std::string log(const std::string& step, const std::string& proc) {
    return slurp(dir + "/runs/r/" + step + "/logs/" + proc + ".log");
  }
};

TEST(LocalRunner, GpuLists) {
  for (const char* good : {"all", "none", "0", "0,1,7", "GPU-8f2a41c7-aa01",
                           "MIG-GPU-8f2a41c7/1/0", "3,GPU-ab12"})
    EXPECT_EQ(checkGpuList(good), "") << good;
  for (const char* bad : {"", ",", "0,", "a", "-1", "1.5", "GPU-", "GPU-a b",
                          "all,0", "none,1", "gpu-ab12", " 0"})
    EXPECT_NE(checkGpuList(bad), "") << bad;
  EXPECT_EQ(checkGpuList("2,GPU-ab,2"), "--gpus names GPU '2' twice");
}

TEST(LocalRunner, ElasticBatchMasterStartsFirstAndFeedsWorkers) {
  FakeMaster master;
  RealRun r(R"(type: pipeline
jobs:
  batch:
    type: command
    job_type: elasticbatch
    command: echo "$SHARD_SERVICE $ELASTICBATCH_CONFIG"
    resources: {instance_count: 2}
)",
            &master);
  ASSERT_TRUE(r.plan);
  EXPECT_EQ(r.statuses[0], StepStatus::Succeeded);
  EXPECT_EQ(master.started, std::vector<std::string>{"batch"});
  EXPECT_EQ(master.stopped, std::vector<std::string>{"batch:ok"});
  EXPECT_EQ(r.log("batch", "worker-1"),
            "127.0.0.1:7777 "
            R"({"task":{"type":"worker","index":1},"environment":"local"})"
            "\n");
}

// A master that takes over the loss of worker-1 once (so it is started
// again), and then finds work left undone.
class RestartingMaster : public FakeMaster {
 public:
  bool restartWorker(const StepPlan&, const std::string& process,
                     int) override {
    lost.push_back(process);
    return lost.size() == 1;
  }
  llvm::Error finished(const StepPlan&) override {
    if (undone.empty()) return llvm::Error::success();
    return llvm::createStringError(llvm::inconvertibleErrorCode(), "%s",
                                   undone.c_str());
  }
  std::vector<std::string> lost;
  std::string undone;
};

TEST(LocalRunner, ElasticBatchWorkersAreStartedAgainWhenTheMasterSays) {
  const char* yaml = R"(type: pipeline
jobs:
  batch:
    type: command
    job_type: elasticbatch
    command: >-
      if echo "$ELASTICBATCH_CONFIG" | grep -q '"index":1' &&
      [ ! -e ../again ]; then touch ../again; exit 4; fi; echo fine
    resources: {instance_count: 2}
)";
  RestartingMaster master;
  RealRun r(yaml, &master);
  ASSERT_TRUE(r.plan);
  EXPECT_EQ(r.statuses[0], StepStatus::Succeeded);
  EXPECT_EQ(master.lost, std::vector<std::string>{"worker-1"});
  EXPECT_EQ(r.log("batch", "worker-1.restart-1"), "fine\n");
  EXPECT_EQ(master.stopped, std::vector<std::string>{"batch:ok"});

  RestartingMaster undone;
  undone.undone = "2 of 6 shards unfinished";
  RealRun r2(yaml, &undone);
  ASSERT_TRUE(r2.plan);
  EXPECT_EQ(r2.statuses[0], StepStatus::Failed);
  EXPECT_EQ(r2.reports[0].detail, "2 of 6 shards unfinished");
  EXPECT_EQ(undone.stopped, std::vector<std::string>{"batch:failed"});
}

TEST(LocalRunner, DistributedFailureStopsTheOthers) {
  RealRun r(R"(type: pipeline
jobs:
  train:
    type: command
    command: if [ "$RANK" = 0 ]; then exit 4; fi; exec sleep 30
    distribution: {type: pytorch}
    resources: {instance_count: 2}
    outputs:
      model:
  after:
    type: command
    command: "true"
    inputs:
      m: ${{parent.jobs.train.outputs.model}}
)");
  ASSERT_TRUE(r.plan) << r.diags.diags.size();
  EXPECT_EQ(r.statuses[0], StepStatus::Failed);
  EXPECT_EQ(r.statuses[1], StepStatus::Skipped);
  EXPECT_EQ(r.reports[0].detail, "rank-0: exit 4");
  EXPECT_NE(r.reports[0].log.find("rank-0.log"), std::string::npos);
}

}  // namespace
}  // namespace pipec::runtime
