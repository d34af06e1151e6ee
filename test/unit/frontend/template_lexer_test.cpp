// Unit tests of the binding-template lexer.
#include "frontend/template_lexer.h"

#include <gtest/gtest.h>

#include "llvm/Support/MemoryBuffer.h"

namespace pipec::frontend {
namespace {

struct Lexed {
  llvm::SourceMgr sm;
  ir::StoringDiagnosticConsumer diags;
  ir::DiagnosticEngine engine{sm, diags};
  ast::TemplateString t;
  explicit Lexed(llvm::StringRef text) {
    sm.AddNewSourceBuffer(llvm::MemoryBuffer::getMemBufferCopy(text, "t"),
                          llvm::SMLoc());
    const char* start = sm.getMemoryBuffer(1)->getBufferStart();
    llvm::SMRange r(llvm::SMLoc::getFromPointer(start),
                    llvm::SMLoc::getFromPointer(start + text.size()));
    t = lexTemplate(text, r, start + text.size(), engine);
  }
};

TEST(TemplateLexer, BindingsAndText) {
  Lexed l("python a.py --x $<<inputs.train>> --y ${{outputs.model}}");
  ASSERT_EQ(l.t.parts.size(), 4u);
  EXPECT_EQ(l.t.parts[0].text, "python a.py --x ");
  EXPECT_EQ(l.t.parts[1].ref.spelling(), "inputs.train");
  EXPECT_FALSE(l.t.parts[1].ref.azure_form);
  EXPECT_TRUE(l.t.parts[3].ref.azure_form);
  EXPECT_EQ(l.t.parts[3].ref.path[1].text, "model");
  EXPECT_TRUE(l.diags.diags.empty());
}

TEST(TemplateLexer, SegmentLocations) {
  Lexed l("x ${{ parent.jobs.a.outputs.b }}");
  const ast::Ref& r = l.t.parts[1].ref;
  ASSERT_EQ(r.path.size(), 5u);
  const char* base = l.sm.getMemoryBuffer(1)->getBufferStart();
  EXPECT_EQ(r.path[2].range.Start.getPointer() - base, 18);
  EXPECT_EQ(r.range.Start.getPointer() - base, 2);
}

TEST(TemplateLexer, OptionalGroups) {
  Lexed l("run $[[--seed $<<parameters.seed>>]] end");
  ASSERT_EQ(l.t.groups.size(), 1u);
  ASSERT_EQ(l.t.parts.size(), 4u);
  EXPECT_EQ(l.t.parts[1].group, 0);
  EXPECT_EQ(l.t.parts[2].group, 0);
  EXPECT_EQ(l.t.parts[3].group, -1);
}

TEST(TemplateLexer, RuntimeTokensAndLookAlikesStayText) {
  Lexed l(
      "azureml://datastores/${{default_datastore}}/paths/${{name}}/ "
      "{{pod.name}} ${data.text}");
  EXPECT_FALSE(l.t.hasRefs());
  ASSERT_EQ(l.t.parts.size(), 1u);
  EXPECT_EQ(l.t.parts[0].text, l.t.raw);
}

TEST(TemplateLexer, Errors) {
  Lexed a("x $<<inputs.a");
  ASSERT_EQ(a.diags.diags.size(), 1u);
  EXPECT_EQ(a.diags.diags[0].kind, ir::DiagKind::UnterminatedBinding);
  Lexed b("$[[ a $[[ b ]] ]]");
  ASSERT_FALSE(b.diags.diags.empty());
  EXPECT_EQ(b.diags.diags[0].kind, ir::DiagKind::NestedOptional);
}

TEST(TemplateLexer, SingleRef) {
  Lexed a("${{parent.inputs.x}}");
  EXPECT_NE(a.t.singleRef(), nullptr);
  Lexed b("${{parent.inputs.x}}/sub");
  EXPECT_EQ(b.t.singleRef(), nullptr);
}

}  // namespace
}  // namespace pipec::frontend
