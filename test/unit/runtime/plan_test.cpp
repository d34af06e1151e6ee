// Planning and laying out runs, on in-memory sources and an in-memory file
// system; settings bound to pipeline inputs (ir::flatten).
#include "runtime/plan.h"

#include <gtest/gtest.h>

#include "frontend/session.h"
#include "test/unit/runtime/memory_fs.h"

namespace pipec::runtime {
namespace {

constexpr const char* kPipeline = R"(type: pipeline
inputs:
  points: {type: uri_file, path: ./data/points.csv}
  nodes: 2
  lr: 0.5
jobs:
  prep:
    type: command
    code: ./src
    command: python3 prep.py --data ${{inputs.raw}} --out ${{outputs.train}}
    inputs:
      raw: ${{parent.inputs.points}}
    outputs:
      train:
  fit:
    type: command
    code: ./src
    command: python3 fit.py $PAI_USER_ARGS
    inputs:
      train: ${{parent.jobs.prep.outputs.train}}
      lr: ${{parent.inputs.lr}}
    outputs:
      model:
    distribution:
      type: pytorch
    resources:
      instance_count: ${{parent.inputs.nodes}}
)";

struct Planned {
  frontend::Session session;
  ir::StoringDiagnosticConsumer diags;
  std::unique_ptr<ir::Module> module;
  MemoryFileSystem fs;
  std::optional<RunPlan> plan;

  explicit Planned(std::map<std::string, ir::Value> sets = {},
                   bool with_data = true) {
    session.setDiagnosticConsumer(diags);
    session.update("/v/p.yaml", kPipeline);
    auto checked = session.check("/v/p.yaml");
    if (!checked) std::abort();  // the IR does not verify: a bug
    module = std::move(checked->module);
    if (with_data) fs.addFile("/v/data/points.csv", "x,y\n1,2\n");
    fs.addFile("/v/src/prep.py", "print('prep')\n");
    fs.addFile("/v/src/requirements.txt", "numpy\n");
    fs.addDirs("/w/runs/r1");
    ir::FlattenOptions fo;
    fo.root_params = std::move(sets);
    ir::FlatPipeline flat = ir::flatten(*module->root, fo);
    PlanOptions po;
    po.run_id = "r1";
    po.run_dir = "/w/runs/r1";
    po.pipec_exe = "/bin/pipec";
    plan = buildPlan(*module->root, flat, po, fs, session.diags());
  }
  bool has(ir::DiagKind k) const {
    for (const auto& d : diags.diags)
      if (d.kind == k) return true;
    return false;
  }
  std::map<std::string, std::string> env(std::size_t step) const {
    const auto& e = plan->steps[step].env;
    return std::map<std::string, std::string>(e.begin(), e.end());
  }
};

TEST(Plan, ResolvesPathsLinksAndCommands) {
  Planned p;
  ASSERT_TRUE(p.plan) << (p.diags.diags.empty() ? ""
                                                : p.diags.diags[0].message);
  ASSERT_EQ(p.plan->steps.size(), 2u);
  const StepPlan& prep = p.plan->steps[0];
  const StepPlan& fit = p.plan->steps[1];
  EXPECT_EQ(prep.dir, "/w/runs/r1/prep");
  EXPECT_EQ(prep.location, "/v/p.yaml:7:3");
  ASSERT_EQ(prep.links.size(), 1u);
  EXPECT_TRUE(prep.links[0].single_file);
  EXPECT_EQ(prep.links[0].target, "/v/data/points.csv");
  EXPECT_EQ(p.env(0)["PAI_INPUT_RAW"],
            "/w/runs/r1/prep/ml/input/data/raw/points.csv");
  // No expansion in it: started without a shell.
  EXPECT_EQ(prep.argv, (std::vector<std::string>{
                           "python3", "prep.py", "--data",
                           "/w/runs/r1/prep/ml/input/data/raw/points.csv",
                           "--out", "/w/runs/r1/prep/ml/output/train/"}));
  // Bare $PAI_USER_ARGS is one word per flag and one per value.
  EXPECT_EQ(fit.argv,
            (std::vector<std::string>{"python3", "fit.py", "--lr", "0.5"}));
  EXPECT_EQ(fit.command, "python3 fit.py --lr \"$PAI_HPS_LR\"");
  ASSERT_EQ(fit.links.size(), 1u);
  EXPECT_EQ(*fit.links[0].producer, 0u);
  EXPECT_EQ(fit.links[0].target, "/w/runs/r1/prep/ml/output/train");
  EXPECT_EQ(fit.deps, std::vector<std::size_t>{0});
  EXPECT_EQ(p.env(1)["PAI_HPS_LR"], "0.5");
  EXPECT_EQ(fit.hyperparameters_json, "{\"lr\": 0.5}\n");
  EXPECT_EQ(prep.requirements, "numpy\n");
  EXPECT_EQ(prep.venv_dir, fit.venv_dir);
  EXPECT_TRUE(llvm::StringRef(prep.venv_dir).startswith("/w/runs/r1/venvs/"));
}

TEST(Plan, SettingsBoundToPipelineInputsTakeTheRunsValue) {
  Planned p;
  ASSERT_TRUE(p.plan);
  EXPECT_EQ(p.plan->steps[1].job_type, ir::JobType::PyTorch);
  EXPECT_EQ(p.plan->steps[1].resources.instance_count, 2);
  Planned three({{"nodes", ir::Value::makeInt(3)}});
  ASSERT_TRUE(three.plan);
  EXPECT_EQ(three.plan->steps[1].resources.instance_count, 3);
  Planned zero({{"nodes", ir::Value::makeInt(0)}});
  EXPECT_FALSE(zero.plan);
  EXPECT_TRUE(zero.has(ir::DiagKind::RunBadSetting));
}

TEST(Plan, TheHashFollowsWhatTheStepDoes) {
  Planned a, b, c({{"lr", ir::Value::makeFloat(0.25)}});
  ASSERT_TRUE(a.plan && b.plan && c.plan);
  EXPECT_EQ(a.plan->steps[1].key, b.plan->steps[1].key);
  EXPECT_NE(a.plan->steps[1].key, c.plan->steps[1].key);
  EXPECT_EQ(a.plan->steps[0].key, c.plan->steps[0].key);
}

TEST(Plan, AMissingInputPathIsReportedWhereItIsWritten) {
  Planned p({}, /*with_data=*/false);
  EXPECT_FALSE(p.plan);
  ASSERT_TRUE(p.has(ir::DiagKind::RunPathMissing));
  for (const auto& d : p.diags.diags)
    if (d.kind == ir::DiagKind::RunPathMissing) {
      EXPECT_EQ(ir::formatLoc(p.session.sourceMgr(), d.range.Start),
                "/v/p.yaml:3:3");
      EXPECT_NE(d.message.find("/v/data/points.csv"), std::string::npos);
    }
}

TEST(Layout, BuildsTheStepTree) {
  Planned p;
  ASSERT_TRUE(p.plan);
  for (const StepPlan& s : p.plan->steps)
    ASSERT_FALSE(bool(layoutStep(*p.plan, s, p.fs)));
  MemoryFileSystem& fs = p.fs;
  using K = FileSystem::Kind;
  EXPECT_EQ(fs.kind("/w/runs/r1/prep/logs"), K::Directory);
  EXPECT_EQ(fs.kind("/w/runs/r1/prep/ml/usercode/prep.py"), K::File);
  EXPECT_EQ(fs.kind("/w/runs/r1/prep/ml/output/train"), K::Directory);
  EXPECT_EQ(*fs.readFile("/w/runs/r1/prep/ml/input/data/raw/points.csv"),
            "x,y\n1,2\n");
  EXPECT_EQ(fs.nodes["/w/runs/r1/prep/ml/input/data/raw/points.csv"].target,
            "/v/data/points.csv");
  // Upstream outputs are relative links that resolve inside the run.
  EXPECT_EQ(fs.nodes["/w/runs/r1/fit/ml/input/data/train"].target,
            "../../../../prep/ml/output/train");
  EXPECT_EQ(fs.kind("/w/runs/r1/fit/ml/input/data/train"), K::Directory);
  EXPECT_EQ(*fs.readFile("/w/runs/r1/fit/ml/input/config/hyperparameters.json"),
            "{\"lr\": 0.5}\n");
  EXPECT_NE(fs.readFile("/w/runs/r1/fit/ml/input/config/training_job.json")
                ->find("\"job_type\": \"pytorch\""),
            std::string::npos);
  // Laying out again (a resumed run) replaces what is there.
  EXPECT_FALSE(bool(layoutStep(*p.plan, p.plan->steps[1], fs)));
}

TEST(Plan, GitUrls) {
  EXPECT_EQ(gitCloneUrl("git+https://example.com/r.git"),
            "https://example.com/r.git");
  EXPECT_EQ(gitCloneUrl("https://example.com/r.git"),
            "https://example.com/r.git");
}

}  // namespace
}  // namespace pipec::runtime
