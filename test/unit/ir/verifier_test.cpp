// Unit tests of the IR verifier: a well-formed module passes; each broken
// invariant is named.
#include "ir/verifier.h"

#include <gtest/gtest.h>

namespace pipec::ir {
namespace {

Port port(const char* name, Type type) {
  Port p;
  p.name = name;
  p.type = type;
  return p;
}

TemplatePiece piece(TemplatePiece::Kind kind, const char* text) {
  TemplatePiece p;
  p.kind = kind;
  p.text = text;
  return p;
}

// train (a command) and a pipeline prep -> fit of it.
struct Built {
  Module m;
  Component* train = nullptr;
  Component* pipe = nullptr;

  Built() {
    auto t = std::make_unique<Component>();
    t->name = "train";
    t->inputs.push_back(port("data", Type::Folder));
    t->outputs.push_back(port("model", Type::Model));
    t->command.pieces.push_back(
        piece(TemplatePiece::Kind::Text, "python t.py "));
    t->command.pieces.push_back(piece(TemplatePiece::Kind::Input, "data"));
    train = m.add(std::move(t));
    auto p = std::make_unique<Component>();
    p->name = "pipe";
    p->kind = ComponentKind::Pipeline;
    p->inputs.push_back(port("raw", Type::Folder));
    p->body = std::make_unique<Pipeline>();
    Step prep;
    prep.name = "prep";
    prep.component = train;
    prep.inputs["data"].kind = Binding::Kind::ParentInput;
    prep.inputs["data"].name = "raw";
    Step fit;
    fit.name = "fit";
    fit.component = train;
    fit.inputs["data"].kind = Binding::Kind::StepOutput;
    fit.inputs["data"].step = "prep";
    fit.inputs["data"].name = "model";
    fit.deps = {0};
    p->body->steps.push_back(std::move(prep));
    p->body->steps.push_back(std::move(fit));
    p->body->topo_order = {0, 1};
    pipe = m.add(std::move(p));
    m.root = pipe;
  }

  std::string problems() {
    llvm::Error e = verify(m);
    return e ? llvm::toString(std::move(e)) : "";
  }
};

TEST(Verifier, WellFormedModulePasses) {
  Built b;
  EXPECT_EQ(b.problems(), "");
}

TEST(Verifier, UndeclaredTemplateNamesAreReported) {
  Built b;
  b.train->command.pieces.push_back(piece(TemplatePiece::Kind::Param, "lr"));
  EXPECT_EQ(b.problems(), "component train: command names undeclared 'lr'\n");
}

TEST(Verifier, DuplicatePortsAreReported) {
  Built b;
  b.train->inputs.push_back(port("data", Type::Folder));
  EXPECT_EQ(b.problems(), "component train: duplicate input 'data'\n");
}

TEST(Verifier, ReadingWithoutADependencyIsReported) {
  Built b;
  b.pipe->body->steps[1].deps.clear();
  EXPECT_EQ(b.problems(),
            "step 'fit' reads from 'prep' without a dependency\n");
}

TEST(Verifier, UnknownOutputsAndParentPortsAreReported) {
  Built b;
  b.pipe->body->steps[1].inputs["data"].name = "weights";
  b.pipe->body->steps[0].inputs["data"].name = "nothing";
  std::string p = b.problems();
  EXPECT_NE(p.find("step 'fit' input 'data' reads unknown output prep.weights"),
            std::string::npos)
      << p;
  EXPECT_NE(
      p.find("step 'prep' input 'data' reads unknown pipeline input 'nothing'"),
      std::string::npos)
      << p;
}

TEST(Verifier, TopologicalOrderMustRespectDependencies) {
  Built b;
  b.pipe->body->topo_order = {1, 0};
  EXPECT_EQ(b.problems(),
            "step 'fit' is ordered before its dependency 'prep'\n");
  b.pipe->body->topo_order = {0, 0};
  EXPECT_EQ(b.problems(), "topological order is not a permutation\n");
  b.pipe->body->topo_order = {0};
  EXPECT_EQ(b.problems(), "topological order has 1 steps, pipeline 2\n");
}

TEST(Verifier, StepsWithoutComponentAndForeignRootAreReported) {
  Built b;
  b.pipe->body->steps[0].component = nullptr;
  Component stray;
  b.m.root = &stray;
  std::string p = b.problems();
  EXPECT_NE(p.find("step 'prep' has no component"), std::string::npos) << p;
  EXPECT_NE(p.find("root component is not owned by the module"),
            std::string::npos)
      << p;
}

TEST(Verifier, PipelineWithoutBodyIsReported) {
  Built b;
  b.pipe->body.reset();
  EXPECT_EQ(b.problems(), "pipeline component pipe has no body\n");
}

}  // namespace
}  // namespace pipec::ir
