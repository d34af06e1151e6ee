// The runner with real processes on a temporary folder: the elasticbatch
// master seam, a PyTorch-style job's environment, a failing step's report
// with the end of its log, and a step's leftovers in other sessions.
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

TEST(LocalRunner, AFailureCarriesTheEndOfItsLog) {
  RealRun r(R"(type: pipeline
jobs:
  fails:
    type: command
    command: >-
      echo first; echo 'Traceback (most recent call last):';
      echo 'ValueError: boom' >&2; exit 1
)");
  ASSERT_TRUE(r.plan);
  EXPECT_EQ(
      r.reports[0].log_tail.lines,
      (std::vector<std::string>{
          "first", "Traceback (most recent call last):", "ValueError: boom"}));
  EXPECT_FALSE(r.reports[0].log_tail.more);
  // The diagnostic has it too, a note a line after the one naming the log.
  ASSERT_EQ(r.diags.diags.size(), 1u);
  const auto& notes = r.diags.diags[0].notes;
  ASSERT_EQ(notes.size(), 4u);
  EXPECT_EQ(notes[3].message, "| ValueError: boom");
}

TEST(LocalRunner, LeftoversStopWithTheirStepNotWithAnother) {
  // a and b each leave a process in a session of its own, adopted by this
  // process while they run. When a ends, its leftover is stopped and b's,
  // whose step still runs, is not; b's goes when b ends.
  llvm::SmallString<128> p;
  llvm::sys::fs::createUniqueDirectory("leftovers", p);
  std::string d(p);
  auto leave = [&](const std::string& name) {
    return "(setsid sh -c 'echo $$ > " + d + "/" + name + ".tmp; mv " + d +
           "/" + name + ".tmp " + d + "/" + name +
           "; exec sleep 30' </dev/null >/dev/null 2>&1 &); until [ -e " + d +
           "/" + name + " ]; do sleep 0.01; done";
  };
  std::string yaml =
      R"(type: pipeline
jobs:
  a:
    type: command
    command: >-
      )" +
      leave("a.pid") + "; until [ -e " + d +
      R"(/b.ready ]; do sleep 0.01; done
  b:
    type: command
    command: >-
      )" +
      leave("b.pid") + "; until [ -e " + d +
      "/a.pid ]; do sleep 0.01; done; touch " + d + "/b.ready; a=$(cat " + d +
      "/a.pid); i=0; while kill -0 $a 2>/dev/null && [ $i -lt 500 ]; do "
      "sleep 0.01; i=$((i+1)); done; kill -0 $a 2>/dev/null || echo "
      "a-left-gone; kill -0 $(cat " +
      d + R"(/b.pid) && echo b-left-alive
)";
  RealRun r(yaml.c_str());
  ASSERT_TRUE(r.plan);
  EXPECT_EQ(r.statuses[0], StepStatus::Succeeded);
  EXPECT_EQ(r.statuses[1], StepStatus::Succeeded);
  EXPECT_EQ(r.log("b", "main"), "a-left-gone\nb-left-alive\n");
  for (const char* name : {"/a.pid", "/b.pid"}) {
    pid_t pid = std::stoi(slurp(d + name));
    EXPECT_FALSE(processRunning(pid)) << name;
  }
  llvm::sys::fs::remove_directories(d);
}

TEST(LocalRunner, LogTailIsBounded) {
  llvm::SmallString<128> p;
  llvm::sys::fs::createUniqueFile("tail-%%%%.log", p);
  std::string path(p);
  {
    std::ofstream f(path);
    // One line longer than the bytes read: its end is what is shown.
    f << std::string(5000, 'a') << "\n";
  }
  LogTail one = readLogTail(path);
  ASSERT_EQ(one.lines.size(), 1u);
  EXPECT_TRUE(one.more);
  EXPECT_EQ(one.lines[0], std::string(kTailLineBytes, 'a') + "...");
  {
    std::ofstream f(path);
    for (int i = 0; i < 2000; ++i) f << "line " << i << "\n";
    f << "\n\n";
  }
  LogTail many = readLogTail(path);
  ASSERT_EQ(many.lines.size(), kTailLines);
  EXPECT_TRUE(many.more);
  EXPECT_EQ(many.lines.back(), "line 1999");
  EXPECT_TRUE(readLogTail(path + ".missing").lines.empty());
  llvm::sys::fs::remove(path);
}

}  // namespace
}  // namespace pipec::runtime
