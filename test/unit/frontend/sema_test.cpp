// Unit tests of sema through the Session API, on in-memory files.
#include <gtest/gtest.h>

#include "frontend/session.h"
#include "ir/flatten.h"

namespace pipec::frontend {
namespace {

struct Compiled {
  Session session;
  ir::StoringDiagnosticConsumer diags;
  std::unique_ptr<ir::Module> module;
  using Files = std::vector<std::pair<std::string, std::string>>;
  explicit Compiled(Files files) {
    session.setDiagnosticConsumer(diags);
    for (auto& [p, t] : files) session.update(p, t);
    auto checked = session.check(files[0].first);
    if (!checked) std::abort();  // the IR does not verify: a bug
    module = std::move(checked->module);
  }
  bool has(ir::DiagKind k) const {
    for (const auto& d : diags.diags)
      if (d.kind == k) return true;
    return false;
  }
};

constexpr const char* kComponent = R"(name: train
version: 1.0.0
command: python train.py --data $<<inputs.data>> --model $<<outputs.model>>
inputs:
  data: {type: folder}
outputs:
  model: {type: model}
parameters:
  epochs: {type: int, default: 10, range: [1, 100]}
)";

TEST(Sema, PipelineWiresAndOrders) {
  Compiled c(Compiled::Files{{"/v/p.yaml", R"(type: pipeline
inputs:
  raw: {type: uri_folder, path: ./data}
  n: 5
jobs:
  score:
    component: ./train.yaml
    inputs:
      data: ${{parent.jobs.fit.outputs.model}}
  fit:
    component: ./train.yaml
    inputs:
      data: ${{parent.inputs.raw}}
      epochs: ${{parent.inputs.n}}
)"},
                             {"/v/train.yaml", kComponent}});
  ASSERT_TRUE(c.module);
  EXPECT_FALSE(c.session.diags().hasErrors());
  const ir::Pipeline& pl = *c.module->root->body;
  ASSERT_EQ(pl.steps.size(), 2u);
  EXPECT_EQ(pl.steps[pl.topo_order[0]].name, "fit");
  EXPECT_EQ(pl.steps[0].deps, std::vector<std::size_t>{1});
  // One component, loaded once.
  EXPECT_EQ(pl.steps[0].component, pl.steps[1].component);
  ir::FlatPipeline flat = ir::flatten(*c.module->root, {});
  ASSERT_EQ(flat.steps.size(), 2u);
  EXPECT_EQ(flat.steps[0].name, "fit");
  EXPECT_EQ(flat.steps[0].params[0].second->asInt(), 5);
  EXPECT_EQ(flat.steps[1].inputs.at("data").kind,
            ir::DataSource::Kind::StepOutput);
}

TEST(Sema, CycleIsReported) {
  Compiled c(Compiled::Files{{"/v/p.yaml", R"(type: pipeline
jobs:
  a:
    component: ./train.yaml
    inputs: {data: "${{parent.jobs.b.outputs.model}}"}
  b:
    component: ./train.yaml
    inputs: {data: "${{parent.jobs.a.outputs.model}}"}
)"},
                             {"/v/train.yaml", kComponent}});
  ASSERT_TRUE(c.has(ir::DiagKind::DependencyCycle));
  for (const auto& d : c.diags.diags) {
    if (d.kind == ir::DiagKind::DependencyCycle) {
      EXPECT_NE(d.message.find("a -> b -> a"), std::string::npos) << d.message;
    }
  }
}

TEST(Sema, TypeMismatchNamesBothEnds) {
  Compiled c(Compiled::Files{{"/v/p.yaml", R"(type: pipeline
inputs:
  f: {type: uri_file, path: ./x.csv}
jobs:
  a:
    component: ./train.yaml
    inputs: {data: "${{parent.inputs.f}}"}
)"},
                             {"/v/train.yaml", kComponent}});
  ASSERT_TRUE(c.has(ir::DiagKind::BindingTypeMismatch));
}

TEST(Sema, InlineJobsInferTypes) {
  Compiled c(Compiled::Files{{"/v/p.yaml", R"(type: pipeline
inputs:
  lr: 0.5
jobs:
  a:
    type: command
    command: echo ${{inputs.lr}} ${{inputs.d}} > ${{outputs.o}}/x
    inputs:
      lr: ${{parent.inputs.lr}}
      d: {type: uri_file, path: ./d.csv}
    outputs:
      o:
)"}});
  ASSERT_TRUE(c.module);
  const ir::Component* a = c.module->root->body->steps[0].component;
  ASSERT_EQ(a->params.size(), 1u);
  EXPECT_EQ(a->params[0].type, ir::Type::Float);
  ASSERT_EQ(a->inputs.size(), 1u);
  EXPECT_EQ(a->inputs[0].type, ir::Type::File);
  EXPECT_EQ(a->outputs[0].type, ir::Type::Folder);
}

TEST(Sema, ComponentCycleAcrossFiles) {
  Compiled c(Compiled::Files{
      {"/v/a.yaml", "type: pipeline\njobs:\n  x:\n    component: ./b.yaml\n"},
      {"/v/b.yaml", "type: pipeline\njobs:\n  y:\n    component: ./a.yaml\n"}});
  EXPECT_TRUE(c.has(ir::DiagKind::ComponentCycle));
}

}  // namespace
}  // namespace pipec::frontend
