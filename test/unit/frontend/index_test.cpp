// Unit tests of the symbol index and completion: declarations, uses across
// files, binding paths, call arguments, YAML keys, enum values.
#include "frontend/index.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace pipec::frontend {
namespace {

constexpr const char* kTrain = R"(name: train
command: python train.py --data $<<inputs.data>> --lr $<<parameters.lr>>
inputs:
  data: {type: folder}
outputs:
  model: {type: model}
parameters:
  lr: {type: float, default: 0.1}
  opt: {type: string, default: sgd, enum: [sgd, adam]}
)";

constexpr const char* kPipeline = R"(type: pipeline
inputs:
  raw: {type: uri_folder}
jobs:
  fit:
    component: ./train.yaml
    inputs:
      data: ${{parent.inputs.raw}}
      lr: 0.5
  again:
    component: ./train.yaml
    inputs:
      data: ${{parent.jobs.fit.outputs.model}}
)";

constexpr const char* kPipe = R"(component prep {
  command "x $<<inputs.raw>> $<<outputs.clean>>"
  in raw: folder
  out clean: folder
  param mode: string = "a" in {"a", "b"}
}

pipeline p(data: folder) {
  s = prep(raw: data)
  t = prep(raw: s.clean)
}
)";

struct Checked {
  Session session;
  CheckResult result;
  SymbolIndex index;
};

std::unique_ptr<Checked> check(
    std::vector<std::pair<std::string, std::string>> files,
    const std::string& main) {
  auto c = std::make_unique<Checked>();
  for (auto& [p, t] : files) c->session.update(p, t);
  auto r = c->session.check(main);
  if (!r) {
    ADD_FAILURE() << llvm::toString(r.takeError());
    return c;
  }
  c->result = std::move(*r);
  c->index = SymbolIndex::build(c->session, c->result, main);
  return c;
}

std::vector<std::string> labels(const std::vector<Completion>& items) {
  std::vector<std::string> out;
  for (const Completion& c : items) out.push_back(c.label);
  std::sort(out.begin(), out.end());
  return out;
}

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST(SymbolIndex, ParamDeclarationCarriesTypeDefaultAndEnvVar) {
  auto c = check({{"/v/train.yaml", kTrain}}, "/v/train.yaml");
  std::size_t id = c->index.find("param:/v/train.yaml#train.lr");
  ASSERT_NE(id, SymbolIndex::npos);
  const Symbol& lr = c->index.symbols()[id];
  EXPECT_EQ(lr.signature, "param lr: float = 0.1");
  EXPECT_EQ(lr.env_var, "PAI_HPS_LR");
  EXPECT_EQ(lr.value, "0.1");
  EXPECT_EQ(lr.decl.start.line, 7u);
  EXPECT_EQ(lr.decl.start.utf16, 2u);
  // The declaration and the use in the command.
  EXPECT_EQ(c->index.uses(lr.key).size(), 2u);
  const Occurrence* o = c->index.at(1, 69);
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(c->index.symbols()[o->symbol].name, "lr");
}

TEST(SymbolIndex, JobArgumentResolvesToTheComponentFile) {
  auto c = check({{"/v/train.yaml", kTrain}, {"/v/pipeline.yaml", kPipeline}},
                 "/v/pipeline.yaml");
  // `lr:` on line 8 of the pipeline names the parameter of train.yaml.
  const Occurrence* o = c->index.at(8, 7);
  ASSERT_NE(o, nullptr);
  const Symbol& s = c->index.symbols()[o->symbol];
  EXPECT_EQ(s.kind, Symbol::Kind::Param);
  EXPECT_EQ(s.decl.path, "/v/train.yaml");
  EXPECT_EQ(o->value, "0.5");
  // `fit` inside the binding of job `again` is the step.
  const Occurrence* f = c->index.at(12, 28);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(c->index.symbols()[f->symbol].kind, Symbol::Kind::Step);
  EXPECT_EQ(c->index.uses(c->index.symbols()[f->symbol].key).size(), 2u);
  // `component: ./train.yaml` goes to the component.
  const Occurrence* comp = c->index.at(5, 16);
  ASSERT_NE(comp, nullptr);
  EXPECT_EQ(c->index.symbols()[comp->symbol].decl.path, "/v/train.yaml");
}

TEST(SymbolIndex, PipeBindingsAndArguments) {
  auto c = check({{"/v/a.pipe", kPipe}}, "/v/a.pipe");
  std::size_t raw = c->index.find("input:/v/a.pipe#prep.raw");
  ASSERT_NE(raw, SymbolIndex::npos);
  // Declaration, the command's $<<inputs.raw>>, and two call arguments.
  EXPECT_EQ(c->index.uses(c->index.symbols()[raw].key).size(), 4u);
  std::size_t clean = c->index.find("output:/v/a.pipe#prep.clean");
  ASSERT_NE(clean, SymbolIndex::npos);
  // `s.clean` in the second call is a use of the output.
  EXPECT_EQ(c->index.uses(c->index.symbols()[clean].key).size(), 3u);
}

TEST(Complete, BindingPathsWalkStepsAndOutputs) {
  auto c = check({{"/v/train.yaml", kTrain}, {"/v/pipeline.yaml", kPipeline}},
                 "/v/pipeline.yaml");
  std::string text = kPipeline;
  std::size_t at = text.find("${{parent.jobs.fit.outputs.model}}");
  auto in = [&](llvm::StringRef typed) {
    std::string t = text;
    t.replace(at, 34, typed.str());
    return labels(complete(c->index, "/v/pipeline.yaml", t, at + typed.size()));
  };
  EXPECT_TRUE(has(in("${{parent."), "jobs"));
  auto steps = in("${{parent.jobs.");
  EXPECT_TRUE(has(steps, "fit"));
  EXPECT_TRUE(has(steps, "again"));
  EXPECT_EQ(in("${{parent.jobs.fit.outputs."),
            std::vector<std::string>{"model"});
  EXPECT_EQ(in("${{parent.inputs.r"), std::vector<std::string>{"raw"});
}

TEST(Complete, YamlKeysAndEnumValues) {
  auto c = check({{"/v/train.yaml", kTrain}, {"/v/pipeline.yaml", kPipeline}},
                 "/v/pipeline.yaml");
  std::string text = kPipeline;
  // Arguments of job `fit`: train.yaml's inputs and parameters.
  std::size_t at = text.find("      lr: 0.5");
  std::string t = text;
  t.replace(at, 13, "      ");
  auto args = labels(complete(c->index, "/v/pipeline.yaml", t, at + 6));
  EXPECT_TRUE(has(args, "opt"));
  EXPECT_TRUE(has(args, "data"));
  t = text;
  t.replace(at, 13, "      opt: ");
  EXPECT_EQ(labels(complete(c->index, "/v/pipeline.yaml", t, at + 11)),
            (std::vector<std::string>{"adam", "sgd"}));
  // Keys of a job.
  at = text.find("    component: ./train.yaml");
  t = text;
  t.insert(at, "    ");
  auto keys = labels(complete(c->index, "/v/pipeline.yaml", t, at + 4));
  EXPECT_TRUE(has(keys, "resources"));
  EXPECT_TRUE(has(keys, "environment_variables"));
}

TEST(Complete, PipeCallArgumentsAndKeywords) {
  auto c = check({{"/v/a.pipe", kPipe}}, "/v/a.pipe");
  std::string text = kPipe;
  std::size_t at = text.find("  t = prep(raw: s.clean)");
  std::string t = text;
  t.insert(at, "  u = prep(raw: data, \n");
  auto args = labels(complete(c->index, "/v/a.pipe", t, at + 22));
  EXPECT_EQ(args, std::vector<std::string>{"mode"});
  t = text;
  t.insert(at, "  u = prep(mode: \n");
  EXPECT_TRUE(has(labels(complete(c->index, "/v/a.pipe", t, at + 17)), "a"));
  t = text;
  t.insert(at, "  u = s.\n");
  EXPECT_EQ(labels(complete(c->index, "/v/a.pipe", t, at + 8)),
            std::vector<std::string>{"clean"});
  auto top = labels(complete(c->index, "/v/a.pipe", text, text.size()));
  EXPECT_TRUE(has(top, "component"));
  EXPECT_TRUE(has(top, "prep"));
}

TEST(FormatPipeText, LaysOutOrRefuses) {
  auto f = formatPipeText("component a {\n    in x:   folder\n}\n");
  ASSERT_TRUE(f);
  EXPECT_EQ(*f, "component a {\n  in x: folder\n}\n");
  EXPECT_FALSE(formatPipeText("component a {\n  in x: \n"));
}

}  // namespace
}  // namespace pipec::frontend
