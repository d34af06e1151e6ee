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

// Checks `yaml` as /v/p.yaml and plans it as run r1 in /w/runs/r1 over
// `fs`, with the files the test added.
struct PlanFixture {
  frontend::Session session;
  ir::StoringDiagnosticConsumer diags;
  std::unique_ptr<ir::Module> module;
  MemoryFileSystem fs;
  std::optional<RunPlan> plan;

  void planText(const char* yaml, const ir::FlattenOptions& fo) {
    session.setDiagnosticConsumer(diags);
    session.update("/v/p.yaml", yaml);
    auto checked = session.check("/v/p.yaml");
    if (!checked) std::abort();  // the IR does not verify: a bug
    module = std::move(checked->module);
    fs.addDirs("/w/runs/r1");
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
};

struct Planned : PlanFixture {
  explicit Planned(std::map<std::string, ir::Value> sets = {},
                   bool with_data = true) {
    if (with_data) fs.addFile("/v/data/points.csv", "x,y\n1,2\n");
    fs.addFile("/v/src/prep.py", "print('prep')\n");
    fs.addFile("/v/src/requirements.txt", "numpy\n");
    ir::FlattenOptions fo;
    fo.root_params = std::move(sets);
    planText(kPipeline, fo);
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

// uri_file outputs, --input STEP.NAME, default outputs and a conda file.
constexpr const char* kAzure = R"(type: pipeline
jobs:
  write:
    type: command
    command: echo hi > ${{outputs.greeting}}
    outputs:
      greeting: {type: uri_file}
  read:
    type: command
    command: cat ${{inputs.text}} ${{inputs.art}}/x
    inputs:
      text: ${{parent.jobs.write.outputs.greeting}}
      art: ${{parent.jobs.write.outputs.artifacts}}
    environment:
      image: python:3.11
      conda_file: env/conda.yaml
)";

struct AzurePlanned : PlanFixture {
  explicit AzurePlanned(const std::string& conda,
                        const ir::FlattenOptions& fo = {}) {
    fs.addFile("/v/env/conda.yaml", conda);
    fs.addFile("/v/local.txt", "local\n");
    planText(kAzure, fo);
  }
  const InputLink& link(std::size_t step, llvm::StringRef channel) const {
    for (const InputLink& l : plan->steps[step].links)
      if (l.channel == channel) return l;
    std::abort();
  }
};

constexpr const char* kConda =
    "dependencies:\n  - python=3.11\n  - pip:\n    - numpy==1.26\n"
    "    - pandas\n";

TEST(Plan, FileOutputsAreFilesInTheirChannelFolder) {
  AzurePlanned p(kConda);
  ASSERT_TRUE(p.plan) << (p.diags.diags.empty() ? ""
                                                : p.diags.diags[0].message);
  const StepPlan& write = p.plan->steps[0];
  const StepPlan& read = p.plan->steps[1];
  ASSERT_EQ(write.outputs.size(), 2u);  // greeting, and artifacts (read)
  EXPECT_EQ(write.outputs[0].path,
            "/w/runs/r1/write/ml/output/greeting/greeting");
  EXPECT_EQ(write.outputs[1].channel, "artifacts");
  EXPECT_EQ(write.outputs[1].target, "/w/runs/r1/write/ml/artifacts/outputs");
  ASSERT_EQ(read.links.size(), 2u);
  EXPECT_TRUE(p.link(1, "text").single_file);
  EXPECT_EQ(p.link(1, "text").target,
            "/w/runs/r1/write/ml/output/greeting/greeting");
  EXPECT_FALSE(p.link(1, "art").single_file);
  for (const StepPlan& s : p.plan->steps)
    ASSERT_FALSE(bool(layoutStep(*p.plan, s, p.fs)));
  EXPECT_EQ(p.fs.nodes["/w/runs/r1/read/ml/input/data/text/greeting"].target,
            "../../../../../write/ml/output/greeting/greeting");
  EXPECT_EQ(p.fs.nodes["/w/runs/r1/write/ml/usercode/outputs"].target,
            "../artifacts/outputs");
  EXPECT_EQ(p.fs.nodes["/w/runs/r1/write/ml/output/artifacts"].target,
            "/w/runs/r1/write/ml/artifacts/outputs");
}

// The runtime makes exactly the lowering's layout: every folder and link
// of it is there after layoutStep, with the link's target as written.
TEST(Layout, IsTheLoweringsLayout) {
  AzurePlanned p(kConda);
  ASSERT_TRUE(p.plan);
  using E = lowering::LayoutEntry;
  for (const StepPlan& s : p.plan->steps) {
    ASSERT_FALSE(bool(layoutStep(*p.plan, s, p.fs)));
    ASSERT_FALSE(s.layout.empty());
    for (const E& e : s.layout) {
      auto it = p.fs.nodes.find(s.dir + "/" + e.path);
      ASSERT_NE(it, p.fs.nodes.end()) << e.path;
      const auto& node = it->second;
      if (e.kind == E::Kind::Dir) {
        EXPECT_TRUE(node.target.empty()) << e.path;
        EXPECT_EQ(node.kind, FileSystem::Kind::Directory) << e.path;
      } else {
        EXPECT_EQ(node.target, e.target) << e.path;
      }
    }
  }
  // read: a file output of `write` is a folder holding a link to the file;
  // write: its default output read downstream is made before the link.
  const StepPlan& read = p.plan->steps[1];
  auto at = [&](const StepPlan& s, llvm::StringRef path) -> const E* {
    for (const E& e : s.layout)
      if (e.path == path) return &e;
    return nullptr;
  };
  ASSERT_TRUE(at(read, "ml/input/data/text"));
  EXPECT_EQ(at(read, "ml/input/data/text")->kind, E::Kind::Dir);
  ASSERT_TRUE(at(read, "ml/input/data/text/greeting"));
  EXPECT_EQ(at(read, "ml/input/data/text/greeting")->target,
            "../../../../../write/ml/output/greeting/greeting");
  const E* art = at(p.plan->steps[0], "ml/output/artifacts");
  ASSERT_TRUE(art);
  EXPECT_TRUE(art->make_target);
  const E* outputs = at(p.plan->steps[0], "ml/usercode/outputs");
  ASSERT_TRUE(outputs);
  EXPECT_TRUE(outputs->after_code);
  EXPECT_EQ(outputs->target, "../artifacts/outputs");
}

// A target that lowers without the layout (the k8s backend) and makes it
// for some steps after gets the same entries; a default output a later step
// reads is marked as a folder of the step's own tree.
TEST(Layout, MadeAfterTheLoweringIsTheSame) {
  AzurePlanned p(kConda);
  ASSERT_TRUE(p.plan);
  ir::FlatPipeline flat = ir::flatten(*p.module->root, {});
  ir::DiagnosticEngine& diags = p.session.diags();
  lowering::LoweringOptions with, without;
  without.layout = false;
  for (std::size_t i = 0; i < flat.steps.size(); ++i) {
    lowering::LoweredStep a = lowering::lowerStep(flat, i, "/ml", with, diags);
    lowering::LoweredStep b =
        lowering::lowerStep(flat, i, "/ml", without, diags);
    ASSERT_FALSE(a.layout.empty());
    EXPECT_TRUE(b.layout.empty());
    std::vector<lowering::LayoutEntry> later;
    lowering::stepLayoutTo(flat, b, later);
    ASSERT_EQ(later.size(), a.layout.size());
    for (std::size_t k = 0; k < later.size(); ++k) {
      EXPECT_EQ(later[k].kind, a.layout[k].kind) << a.layout[k].path;
      EXPECT_EQ(later[k].path, a.layout[k].path);
      EXPECT_EQ(later[k].target, a.layout[k].target) << a.layout[k].path;
      EXPECT_EQ(later[k].make_target, a.layout[k].make_target);
      EXPECT_EQ(later[k].after_code, a.layout[k].after_code);
    }
  }
  lowering::LoweredStep write =
      lowering::lowerStep(flat, 0, "/ml", without, diags);
  ASSERT_EQ(write.outputs.size(), 2u);
  EXPECT_FALSE(write.outputs[0].own_tree);  // greeting
  EXPECT_TRUE(write.outputs[1].own_tree);   // artifacts, read by `read`
  EXPECT_EQ(write.outputs[1].target,
            lowering::defaultOutputDir("/ml", "artifacts"));
  EXPECT_EQ(write.outputs[1].target, "/ml/artifacts/outputs");
  EXPECT_EQ(lowering::defaultOutputDir("/ml", "default"), "/ml/artifacts");
}

TEST(Plan, InputOfOneStepFromTheCommandLine) {
  ir::FlattenOptions fo;
  fo.step_inputs["read"]["text"] = "/v/local.txt";
  AzurePlanned p(kConda, fo);
  ASSERT_TRUE(p.plan);
  const StepPlan& read = p.plan->steps[1];
  ASSERT_EQ(read.links.size(), 2u);
  EXPECT_FALSE(p.link(1, "text").producer);
  EXPECT_EQ(p.link(1, "text").target, "/v/local.txt");
  EXPECT_TRUE(p.link(1, "text").single_file);
  // Still after `write`, whose artifacts it reads.
  EXPECT_EQ(read.deps, std::vector<std::size_t>{0});
}

TEST(Plan, ACondaFilesPipListGoesIntoTheVirtualEnvironment) {
  AzurePlanned p(kConda);
  ASSERT_TRUE(p.plan);
  const StepPlan& read = p.plan->steps[1];
  EXPECT_EQ(read.conda_pip, "numpy==1.26\npandas\n");
  EXPECT_EQ(read.conda_pip_file, "/w/runs/r1/read/conda-pip.txt");
  EXPECT_TRUE(llvm::StringRef(read.venv_dir).startswith("/w/runs/r1/venvs/"));
  EXPECT_TRUE(p.plan->steps[0].venv_dir.empty());
  EXPECT_TRUE(p.has(ir::DiagKind::RunEnvironmentNotBuilt));
  // Another list, another environment and key.
  AzurePlanned q("dependencies:\n  - pip:\n    - numpy\n");
  ASSERT_TRUE(q.plan);
  EXPECT_NE(q.plan->steps[1].venv_dir, read.venv_dir);
  EXPECT_NE(q.plan->steps[1].key, read.key);
}

TEST(Plan, ACondaFileThatIsNotYamlIsALocatedError) {
  AzurePlanned p("dependencies: [python, pip\n");
  EXPECT_FALSE(p.plan);
  ASSERT_FALSE(p.diags.diags.empty());
  bool in_conda = false;
  for (const auto& d : p.diags.diags)
    if (d.severity == ir::Severity::Error)
      in_conda =
          in_conda ||
          llvm::StringRef(ir::formatLoc(p.session.sourceMgr(), d.range.Start))
              .startswith("/v/env/conda.yaml:");
  EXPECT_TRUE(in_conda);
  AzurePlanned shape("dependencies:\n  pip: numpy\n");
  EXPECT_FALSE(shape.plan);
  EXPECT_TRUE(shape.has(ir::DiagKind::CondaFileBad));
}

TEST(Plan, GitUrls) {
  EXPECT_EQ(gitCloneUrl("git+https://example.com/r.git"),
            "https://example.com/r.git");
  EXPECT_EQ(gitCloneUrl("https://example.com/r.git"),
            "https://example.com/r.git");
}

}  // namespace
}  // namespace pipec::runtime
