// Unit tests of the Session as an editor drives it: overlays, invalidation,
// per-file results, positions in UTF-16, a SourceMgr that does not grow.
#include "frontend/session.h"

#include <gtest/gtest.h>

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

namespace pipec::frontend {
namespace {

constexpr const char* kTrain = R"(name: train
command: python train.py --data $<<inputs.data>>
inputs:
  data: {type: folder}
)";

constexpr const char* kPipeline = R"(type: pipeline
inputs:
  raw: {type: uri_folder}
jobs:
  fit:
    component: ./train.yaml
    inputs:
      data: ${{parent.inputs.raw}}
)";

CheckResult checked(Session& s, llvm::StringRef path) {
  auto r = s.check(path);
  if (!r) {
    ADD_FAILURE() << llvm::toString(r.takeError());
    return CheckResult();
  }
  return std::move(*r);
}

unsigned versionOf(const Session& s, llvm::StringRef path) {
  auto f = s.source(path);
  return f ? f->version() : 0;
}

TEST(Session, OverlayAfterLoadIsRead) {
  Session s;
  s.update("/v/train.yaml", kTrain);
  CheckResult one = checked(s, "/v/train.yaml");
  ASSERT_TRUE(one.module);
  EXPECT_EQ(one.module->root->name, "train");
  s.update("/v/train.yaml", std::string("name: fit") + (kTrain + 11));
  CheckResult two = checked(s, "/v/train.yaml");
  ASSERT_TRUE(two.module);
  EXPECT_EQ(two.module->root->name, "fit");
  EXPECT_EQ(versionOf(s, "/v/train.yaml"), 2u);
}

TEST(Session, FileOnDiskIsReusedUntilInvalidated) {
  llvm::SmallString<128> dir;
  ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("session-test", dir));
  std::string path = std::string(dir) + "/c.yaml";
  auto write = [&](llvm::StringRef text) {
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    ASSERT_FALSE(ec);
    os << text;
  };
  write("name: first\ncommand: echo\n");
  Session s;
  EXPECT_EQ(checked(s, path).module->root->name, "first");
  write("name: second\ncommand: echo\n");
  EXPECT_EQ(checked(s, path).module->root->name, "first");  // reused
  s.invalidate(path);
  EXPECT_EQ(checked(s, path).module->root->name, "second");
  // An overlay wins over the disk until it is removed.
  s.update(path, "name: third\ncommand: echo\n");
  EXPECT_EQ(checked(s, path).module->root->name, "third");
  s.removeOverlay(path);
  EXPECT_EQ(checked(s, path).module->root->name, "second");
  llvm::sys::fs::remove_directories(dir);
}

TEST(Session, InvalidationReachesEveryImporterAndNothingElse) {
  Session s;
  // p -> mid -> train (pipeline components), and an unrelated file.
  s.update("/v/p.yaml", R"(type: pipeline
jobs:
  outer:
    component: ./mid.yaml
)");
  s.update("/v/mid.yaml", R"(name: mid
type: pipeline
jobs:
  fit:
    component: ./train.yaml
    inputs:
      data: ./data
)");
  s.update("/v/train.yaml", kTrain);
  s.update("/v/other.yaml", "name: other\ncommand: echo\n");
  EXPECT_EQ(checked(s, "/v/p.yaml").errors, 0u);
  EXPECT_EQ(checked(s, "/v/other.yaml").errors, 0u);
  auto other = s.source("/v/other.yaml");
  for (const char* f : {"/v/p.yaml", "/v/mid.yaml", "/v/train.yaml"})
    EXPECT_EQ(versionOf(s, f), 1u) << f;

  // A new parameter in the leaf: its importers are read again, transitively.
  std::string train = std::string(kTrain) + "parameters:\n  lr: 0.1\n";
  s.update("/v/train.yaml", train);
  EXPECT_FALSE(s.source("/v/p.yaml"));
  EXPECT_FALSE(s.source("/v/mid.yaml"));
  CheckResult r = checked(s, "/v/p.yaml");
  EXPECT_EQ(r.errors, 0u);
  for (const char* f : {"/v/p.yaml", "/v/mid.yaml", "/v/train.yaml"})
    EXPECT_EQ(versionOf(s, f), 2u) << f;
  const ir::Component* leaf =
      r.module->root->body->steps[0].component->body->steps[0].component;
  EXPECT_TRUE(leaf->findParam("lr"));
  // The unrelated file is the same version, the same object.
  EXPECT_EQ(s.source("/v/other.yaml"), other);
  EXPECT_EQ(versionOf(s, "/v/other.yaml"), 1u);
}

TEST(Session, MissingImportIsFoundAfterItIsCreated) {
  Session s;
  s.update("/v/p.yaml", kPipeline);
  CheckResult before = checked(s, "/v/p.yaml");
  EXPECT_EQ(before.errors, 1u);
  ASSERT_TRUE(before.file("/v/p.yaml"));
  ASSERT_EQ(before.file("/v/p.yaml")->diagnostics.size(), 1u);
  EXPECT_EQ(before.file("/v/p.yaml")->diagnostics[0].kind,
            ir::DiagKind::FileNotFound);
  s.update("/v/train.yaml", kTrain);
  CheckResult after = checked(s, "/v/p.yaml");
  EXPECT_EQ(after.errors, 0u);
  EXPECT_TRUE(after.verified);
}

TEST(Session, ResultsArePerFile) {
  Session s;
  s.update("/v/p.yaml", std::string(kPipeline) + "colour: blue\n");
  s.update("/v/train.yaml", std::string(kTrain) +
                                "parameters:\n"
                                "  lr: {type: flaot}\n");
  CheckResult r = checked(s, "/v/p.yaml");
  ASSERT_EQ(r.files.size(), 2u);
  EXPECT_EQ(r.files[0].path, "/v/p.yaml");
  EXPECT_EQ(r.files[0].display, "/v/p.yaml");
  EXPECT_EQ(r.files[0].errors, 0u);
  EXPECT_EQ(r.files[0].warnings, 1u);  // the unknown key
  ASSERT_EQ(r.files[0].diagnostics.size(), 1u);
  EXPECT_EQ(r.files[0].diagnostics[0].kind, ir::DiagKind::UnknownKey);
  const FileDiagnostics* train = r.file("/v/train.yaml");
  ASSERT_TRUE(train);
  EXPECT_EQ(train->errors, 1u);  // the unknown type
  ASSERT_EQ(train->diagnostics.size(), 1u);
  EXPECT_EQ(train->diagnostics[0].kind, ir::DiagKind::UnknownType);
  EXPECT_EQ(r.errors, 1u);
  EXPECT_EQ(r.warnings, 1u);
  EXPECT_FALSE(r.verified);

  // The next check reuses both files and still reports their diagnostics,
  // although nothing is read (or printed) again.
  ir::StoringDiagnosticConsumer printed;
  s.setDiagnosticConsumer(printed);
  CheckResult again = checked(s, "/v/p.yaml");
  EXPECT_EQ(again.file("/v/p.yaml")->warnings, 1u);
  EXPECT_EQ(again.file("/v/train.yaml")->errors, 1u);
  for (const ir::Diagnostic& d : printed.diags)
    EXPECT_NE(d.kind, ir::DiagKind::UnknownKey);  // a parse-time warning
}

TEST(Session, ErrorsInOneCheckDoNotSkipTheVerifierOfTheNext) {
  Session s;
  s.update("/v/bad.yaml", "name: bad\ncommand: echo $<<inputs.nope>>\n");
  s.update("/v/good.yaml", "name: good\ncommand: echo\n");
  CheckResult bad = checked(s, "/v/bad.yaml");
  EXPECT_GT(bad.errors, 0u);
  EXPECT_FALSE(bad.verified);
  CheckResult good = checked(s, "/v/good.yaml");
  EXPECT_EQ(good.errors, 0u);
  EXPECT_TRUE(good.verified);
  EXPECT_TRUE(s.diags().hasErrors());  // the engine counts the whole session
}

TEST(Session, PositionsCountUtf16UnitsAfterNonAsciiText) {
  Session s;
  // é is 2 bytes and 1 unit, € 3 bytes and 1 unit, 😀 4 bytes and 2 units.
  s.update("/v/u.yaml", "name: u\ncommand: echo \"é€😀\" $<<inputs.nope>>\n");
  CheckResult r = checked(s, "/v/u.yaml");
  ASSERT_EQ(r.files[0].diagnostics.size(), 1u);
  const ir::Diagnostic& d = r.files[0].diagnostics[0];
  auto pos = r.locate(d.range.Start);
  ASSERT_TRUE(pos);
  EXPECT_EQ(pos->path, "/v/u.yaml");
  EXPECT_EQ(pos->line, 2u);
  std::size_t bytes_before =
      std::string("command: echo \"é€😀\" $<<inputs.").size();
  EXPECT_EQ(pos->column, bytes_before + 1);
  EXPECT_EQ(pos->utf16, bytes_before - 5);
  auto same = s.locate(d.range.Start);
  ASSERT_TRUE(same);
  EXPECT_EQ(same->utf16, pos->utf16);
}

TEST(Session, SourceMgrHoldsCurrentVersionsAndOldResultsStayValid) {
  Session s;
  s.update("/v/train.yaml", kTrain);
  s.update("/v/p.yaml",
           "type: pipeline\njobs:\n  fit: {component: "
           "./train.yaml, inputs: {data: $<<bad>>}}\n");
  CheckResult first = checked(s, "/v/p.yaml");
  ASSERT_FALSE(first.files[0].diagnostics.empty());
  llvm::SMLoc old = first.files[0].diagnostics[0].range.Start;
  auto where = first.locate(old);
  ASSERT_TRUE(where);
  for (int i = 0; i < 50; ++i) {
    s.update("/v/p.yaml", std::string(std::size_t(i), '\n') + kPipeline);
    checked(s, "/v/p.yaml");
  }
  // Two files, whatever the number of edits.
  EXPECT_EQ(s.sourceMgr().getNumBuffers(), 2u);
  EXPECT_EQ(versionOf(s, "/v/p.yaml"), 51u);
  // The first result still holds its text: its locations still resolve.
  auto again = first.locate(old);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->line, where->line);
  EXPECT_EQ(again->column, where->column);
  EXPECT_TRUE(first.sources[0]->text().contains("$<<bad>>") ||
              first.sources[1]->text().contains("$<<bad>>"));
}

}  // namespace
}  // namespace pipec::frontend
