// Unit tests of the .pipe AST builder: what each construct becomes in the
// shared AST, and where it is located.
#include <gtest/gtest.h>

#include "frontend/dsl/dsl_loader.h"
#include "frontend/session.h"
#include "llvm/Support/MemoryBuffer.h"

namespace pipec::frontend {
namespace {

// The value a component or job gives setting `name`, or "<none>".
template <typename T>
std::string given(const T& owner, llvm::StringRef name) {
  const ast::Setting* s = owner.settings.find(name);
  return s ? s->value.text : "<none>";
}

struct Loaded {
  llvm::SourceMgr sm;
  ir::StoringDiagnosticConsumer sink;
  ir::DiagnosticEngine diags{sm, sink};
  std::unique_ptr<ast::File> file;
  unsigned id = 0;

  explicit Loaded(llvm::StringRef text) {
    id = sm.AddNewSourceBuffer(
        llvm::MemoryBuffer::getMemBufferCopy(text, "/v/t.pipe"), llvm::SMLoc());
    file = loadDslBuffer(sm, id, "/v/t.pipe", diags);
  }
  // 1-based line:column of a location.
  std::string at(llvm::SMLoc loc) const {
    auto lc = sm.getLineAndColumn(loc, id);
    return std::to_string(lc.first) + ":" + std::to_string(lc.second);
  }
  bool has(ir::DiagKind k) const {
    for (const auto& d : sink.diags)
      if (d.kind == k) return true;
    return false;
  }
  const ast::Component& component(llvm::StringRef name) const {
    for (const auto& c : file->components)
      if (c->name && c->name->text == name) return *c;
    ADD_FAILURE() << "no component " << name.str();
    return *file->components.front();
  }
};

TEST(DslLoader, ComponentPortsAndAttributes) {
  Loaded l(R"(component train {
  version "1.0.0"
  job pytorch
  image "img:1"
  in data: folder "the rows"
  in test: file?
  out model: model
  param epochs: int = 10 in 1..100
  param opt: string = "adam" in {"adam", "sgd"}
  param lr: float = 0.5 in ..1.5
  command "python t.py --data $<<inputs.data>>"
          " --epochs $<<parameters.epochs>>"
  resources { gpu, instance_count: 2 }
  env { A: "1" }
  distribution { type: mpi, process_count_per_instance: 3 }
  tags { team: "ml", n: 3 }
}
)");
  ASSERT_TRUE(l.file) << (l.sink.diags.empty() ? "" : l.sink.diags[0].message);
  EXPECT_TRUE(l.sink.diags.empty());
  const ast::Component& c = l.component("train");
  EXPECT_EQ(c.kind, ast::Component::Kind::Command);
  EXPECT_EQ(c.version->text, "1.0.0");
  EXPECT_EQ(c.job_type->text, "pytorch");
  EXPECT_EQ(c.image->text, "img:1");
  EXPECT_TRUE(c.image->quoted);
  ASSERT_EQ(c.inputs.size(), 2u);
  EXPECT_EQ(c.inputs[0].name.text, "data");
  EXPECT_EQ(c.inputs[0].type->text, "folder");
  EXPECT_EQ(c.inputs[0].description, "the rows");
  EXPECT_EQ(l.at(c.inputs[0].name.range.Start), "5:6");
  EXPECT_TRUE(c.inputs[1].optional);
  ASSERT_EQ(c.params.size(), 3u);
  EXPECT_EQ(c.params[0].default_value->text, "10");
  EXPECT_FALSE(c.params[0].default_value->quoted);
  EXPECT_EQ(c.params[0].min->text, "1");
  EXPECT_EQ(c.params[0].max->text, "100");
  ASSERT_EQ(c.params[1].enum_values.size(), 2u);
  EXPECT_EQ(c.params[1].enum_values[1].text, "sgd");
  EXPECT_FALSE(c.params[2].min);
  EXPECT_EQ(c.params[2].max->text, "1.5");
  // Two string pieces make one command; each binding keeps its column.
  ASSERT_TRUE(c.command);
  std::vector<const ast::Ref*> refs;
  for (const auto& p : c.command->parts)
    if (p.kind == ast::TemplatePart::Kind::Ref) refs.push_back(&p.ref);
  ASSERT_EQ(refs.size(), 2u);
  EXPECT_EQ(refs[0]->spelling(), "inputs.data");
  EXPECT_EQ(l.at(refs[0]->range.Start), "11:31");
  EXPECT_EQ(l.at(refs[1]->range.Start), "12:22");
  EXPECT_EQ(given(c, "instance_type"), "gpu");
  EXPECT_EQ(given(c, "instance_count"), "2");
  ASSERT_EQ(c.environment_variables.size(), 1u);
  EXPECT_EQ(c.environment_variables[0].second.text, "1");
  EXPECT_EQ(c.distribution.type->text, "mpi");
  EXPECT_EQ(given(c, "process_count_per_instance"), "3");
  const llvm::json::Object* tags = c.extra.getObject("tags");
  ASSERT_TRUE(tags);
  EXPECT_EQ(tags->getString("team"), llvm::StringRef("ml"));
  EXPECT_EQ(tags->getInteger("n").getValueOr(0), 3);
  EXPECT_EQ(l.file->main.get(), l.file->components.back().get());
}

TEST(DslLoader, StringsEscapesAndTextBlocks) {
  Loaded l(R"(component c {
  description "a \"quoted\" \\ word\n"
  command """
      line one
        indented
      """
})");
  ASSERT_TRUE(l.file);
  const ast::Component& c = l.component("c");
  EXPECT_EQ(c.description, "a \"quoted\" \\ word\n");
  ASSERT_EQ(c.command->parts.size(), 1u);
  EXPECT_EQ(c.command->parts[0].text, "line one\n  indented\n");
}

TEST(DslLoader, PipelineStepsBecomeBindings) {
  Loaded l(R"(import "prep.yaml" as prep
import "lib.pipe" as lib
pipeline p(raw: folder = "./data", n = 2, rate: float = 0.1)
    -> (model: model) {
  description "d"
  a = prep(raw: raw, ratio: 0.25, name: "x", data: file("./f.csv"))
  t = parallel lib.train(data: a.clean, epochs: n) over rows: a.rows {
    instance_count: n
    mini_batch_size: 10kb
    retry { max_retries: 2, timeout: 60s }
    outputs { log: "./logs" }
    compute: "gpu"
  }
  model = t.model
}
)");
  ASSERT_TRUE(l.file);
  EXPECT_TRUE(l.sink.diags.empty());
  ASSERT_EQ(l.file->imports.size(), 2u);
  EXPECT_EQ(l.file->imports[0].alias.text, "prep");
  EXPECT_EQ(l.file->imports[0].target.text, "prep.yaml");
  const ast::Component& p = l.component("p");
  EXPECT_EQ(p.kind, ast::Component::Kind::Pipeline);
  EXPECT_EQ(l.file->main.get(), &p);
  ASSERT_EQ(p.inputs.size(), 3u);
  EXPECT_EQ(p.inputs[0].path->text, "./data");  // data: a path
  EXPECT_FALSE(p.inputs[1].type);               // inferred from 2
  EXPECT_EQ(p.inputs[1].default_value->text, "2");
  EXPECT_EQ(p.inputs[2].default_value->text, "0.1");
  ASSERT_EQ(p.outputs.size(), 1u);
  ASSERT_EQ(p.jobs.size(), 2u);

  const ast::Job& a = p.jobs[0];
  EXPECT_EQ(a.component.kind, ast::ComponentRef::Kind::Named);
  EXPECT_EQ(a.component.spelling.text, "prep");
  ASSERT_EQ(a.inputs.size(), 4u);
  const ast::JobValue& raw = a.inputs[0].second;
  ASSERT_EQ(raw.kind, ast::JobValue::Kind::Template);
  EXPECT_EQ(raw.tmpl.singleRef()->spelling(), "parent.inputs.raw");
  EXPECT_EQ(l.at(raw.tmpl.singleRef()->path[2].range.Start), "6:17");
  EXPECT_EQ(a.inputs[1].second.kind, ast::JobValue::Kind::Scalar);
  EXPECT_FALSE(a.inputs[1].second.scalar.quoted);
  EXPECT_TRUE(a.inputs[2].second.scalar.quoted);
  EXPECT_EQ(a.inputs[3].second.kind, ast::JobValue::Kind::Data);
  EXPECT_EQ(a.inputs[3].second.type->text, "file");
  EXPECT_EQ(a.inputs[3].second.path->text, "./f.csv");

  const ast::Job& t = p.jobs[1];
  EXPECT_EQ(t.type.text, "parallel");
  EXPECT_EQ(t.component.kind, ast::ComponentRef::Kind::Path);
  EXPECT_EQ(t.component.spelling.text, "lib.pipe#train");
  ASSERT_EQ(t.inputs.size(), 3u);
  EXPECT_EQ(t.inputs[0].second.tmpl.singleRef()->spelling(),
            "parent.jobs.a.outputs.clean");
  EXPECT_EQ(t.inputs[2].first.text, "rows");
  ASSERT_TRUE(t.parallel && t.parallel->input_data);
  EXPECT_EQ(t.parallel->input_data->singleRef()->spelling(), "inputs.rows");
  EXPECT_EQ(given(t, "instance_count"), "${{parent.inputs.n}}");
  EXPECT_EQ(given(t, "mini_batch_size"), "10kb");
  EXPECT_EQ(given(t, "max_retries"), "2");
  EXPECT_EQ(given(t, "timeout"), "60s");
  EXPECT_EQ(t.extra.getString("compute"), llvm::StringRef("gpu"));
  // `model = t.model` is t's output bound to the pipeline output, and the
  // `outputs` block gives another output a path.
  ASSERT_EQ(t.outputs.size(), 2u);
  EXPECT_EQ(t.outputs[0].first.text, "log");
  EXPECT_EQ(t.outputs[0].second.scalar.text, "./logs");
  EXPECT_EQ(t.outputs[1].first.text, "model");
  EXPECT_EQ(t.outputs[1].second.tmpl.singleRef()->spelling(),
            "parent.outputs.model");
}

TEST(DslLoader, ParallelComponent) {
  Loaded l(R"(parallel component score {
  in data: table
  out rows: file
  input_data data
  append_row_to rows
  entry_script "score.py"
  partition_keys ["a", "b"]
  program_arguments "--x ${{inputs.data}}"
})");
  ASSERT_TRUE(l.file);
  const ast::Component& c = l.component("score");
  EXPECT_EQ(c.kind, ast::Component::Kind::Parallel);
  ASSERT_TRUE(c.parallel);
  EXPECT_EQ(c.parallel->input_data->singleRef()->spelling(), "inputs.data");
  EXPECT_EQ(c.parallel->append_row_to->singleRef()->spelling(), "outputs.rows");
  EXPECT_EQ(l.at(c.parallel->append_row_to->singleRef()->range.Start), "5:17");
  EXPECT_EQ(c.parallel->entry_script->text, "score.py");
  ASSERT_EQ(c.parallel->partition_keys.size(), 2u);
  EXPECT_TRUE(c.parallel->program_arguments->hasRefs());
}

TEST(DslLoader, StdlibImportsAndQualifiedCalls) {
  Loaded l(R"(import std.split_table as split
pipeline p(raw: table) {
  s = split(data: raw)
  c = std.csv_to_jsonl(data: raw)
})");
  ASSERT_TRUE(l.file);
  EXPECT_TRUE(l.sink.diags.empty());
  ASSERT_EQ(l.file->imports.size(), 2u);
  EXPECT_TRUE(l.file->imports[0].stdlib);
  EXPECT_EQ(l.file->imports[0].target.text, "std.split_table");
  EXPECT_EQ(l.file->imports[0].alias.text, "split");
  EXPECT_EQ(l.file->imports[1].alias.text, "std.csv_to_jsonl");
  EXPECT_EQ(l.component("p").jobs[1].component.spelling.text,
            "std.csv_to_jsonl");
}

TEST(DslLoader, SyntaxErrorsYieldNoFileAndOneMessageEach) {
  Loaded l(
      "component a {\n  in x folder\n}\ncomponent b {\n  out y model\n}\n");
  EXPECT_FALSE(l.file);
  ASSERT_EQ(l.sink.diags.size(), 2u);
  EXPECT_EQ(l.sink.diags[0].kind, ir::DiagKind::DslSyntax);
  EXPECT_EQ(l.sink.diags[0].message,
            "syntax error: missing ':' before 'folder'");
  EXPECT_EQ(l.at(l.sink.diags[0].range.Start), "2:8");
  EXPECT_EQ(l.at(l.sink.diags[1].range.Start), "5:9");
}

TEST(DslLoader, OffsetsAreBytesAfterNonAsciiText) {
  Loaded l(
      "// é ü €\ncomponent a { command \"ü $<<inputs.x>>\" in x: file }\n");
  ASSERT_TRUE(l.file);
  const ast::Component& c = l.component("a");
  const ast::Ref* ref = nullptr;
  for (const auto& p : c.command->parts)
    if (p.kind == ast::TemplatePart::Kind::Ref) ref = &p.ref;
  ASSERT_TRUE(ref);
  // Column counts bytes: "ü" is two.
  EXPECT_EQ(l.at(ref->range.Start), "2:27");
}

TEST(DslLoader, RejectsBinaryAndInvalidUtf8) {
  Loaded nul(llvm::StringRef("component a {\0}", 15));
  EXPECT_FALSE(nul.file);
  EXPECT_TRUE(nul.has(ir::DiagKind::BinaryFile));
  Loaded bad("component a { description \"\xff\" }");
  EXPECT_FALSE(bad.file);
  EXPECT_TRUE(bad.has(ir::DiagKind::InvalidUtf8));
}

TEST(DslLoader, DuplicatesAndUnknownNames) {
  Loaded l(R"(component a { command "x" }
component a { command "y" }
import std.split_table as a
pipeline p() {
  s = b.c()
})");
  ASSERT_TRUE(l.file);
  EXPECT_EQ(l.file->components.size(), 2u);  // the second `a` is dropped
  EXPECT_TRUE(l.has(ir::DiagKind::DuplicateName));
  EXPECT_TRUE(l.has(ir::DiagKind::DslUnknownImport));
  EXPECT_TRUE(l.component("p").jobs.empty());
}

TEST(DslLoader, KeywordsAreNamesWhereTheyCannotBeKeywords) {
  Loaded l(R"(component c {
  in in: folder
  out out: folder
  param param: int = 1
  command "x"
}
pipeline p(in: folder) -> (out: folder) {
  s = c(in: in, param: 2)
  t = c(in: s.out)
  out = t.out
})");
  ASSERT_TRUE(l.file);
  EXPECT_TRUE(l.sink.diags.empty());
  const ast::Component& c = l.component("c");
  EXPECT_EQ(c.inputs[0].name.text, "in");
  EXPECT_EQ(c.outputs[0].name.text, "out");
  EXPECT_EQ(c.params[0].name.text, "param");
  const ast::Component& p = l.component("p");
  EXPECT_EQ(p.jobs[0].inputs[0].second.tmpl.singleRef()->spelling(),
            "parent.inputs.in");
  EXPECT_EQ(p.jobs[1].inputs[0].second.tmpl.singleRef()->spelling(),
            "parent.jobs.s.outputs.out");
  EXPECT_EQ(p.jobs[1].outputs[0].second.tmpl.singleRef()->spelling(),
            "parent.outputs.out");
}

TEST(DslFormat, IdempotentAndKeepsComments) {
  const char* messy =
      "// c1\ncomponent   a{ /* c2 */\n    in x :file\n\n\n"
      "command \"x\"   // c3\n}\npipeline p(){\n}\n";
  llvm::SourceMgr sm;
  ir::StoringDiagnosticConsumer sink;
  ir::DiagnosticEngine diags(sm, sink);
  unsigned a = sm.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(messy, "a.pipe"), llvm::SMLoc());
  std::string once, twice;
  ASSERT_TRUE(formatDslBuffer(sm, a, diags, once));
  EXPECT_EQ(once,
            "// c1\ncomponent a { /* c2 */\n  in x: file\n\n"
            "  command \"x\" // c3\n}\n\npipeline p() {\n}\n");
  unsigned b = sm.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(once, "b.pipe"), llvm::SMLoc());
  ASSERT_TRUE(formatDslBuffer(sm, b, diags, twice));
  EXPECT_EQ(once, twice);
}

}  // namespace
}  // namespace pipec::frontend
