// The pure parts of a run's orchestration: run ids, grace periods, what
// run.json keeps and what a resume runs with.
#include "runtime/run.h"

#include <gtest/gtest.h>

#include "test/unit/runtime/memory_fs.h"

namespace pipec::runtime {
namespace {

TEST(Run, RunIdsNameOnePlainFolder) {
  for (const char* good :
       {"r1", "20240611-120000-ab12", "my run", "é-1", "a.b", "x_y"})
    EXPECT_EQ(checkRunId(good), "") << good;
  for (const char* bad : {"", "latest", ".", "..", "a/b", "/x", "a\nb", "a\tb",
                          "-x", "\x7f", "\xff\xfe"})
    EXPECT_NE(checkRunId(bad), "") << bad;
  EXPECT_NE(checkRunId(std::string(256, 'a')), "");
  EXPECT_EQ(checkRunId(std::string(255, 'a')), "");
}

TEST(Run, GraceIsAFiniteNumberOfSeconds) {
  EXPECT_EQ(parseGraceSeconds("5"), 5000u);
  EXPECT_EQ(parseGraceSeconds("0"), 0u);
  EXPECT_EQ(parseGraceSeconds("0.25"), 250u);
  EXPECT_EQ(parseGraceSeconds("86400"), 86400000u);
  for (const char* bad :
       {"inf", "-inf", "nan", "1e300", "86401", "-1", "soon", ""})
    EXPECT_FALSE(parseGraceSeconds(bad)) << bad;
}

TEST(Run, RunJsonKeepsWhatItIsGiven) {
  MemoryFileSystem fs;
  fs.addDirs("/w/runs/r");
  RunArgs a;
  a.file = "/p/pipeline.yaml";
  a.entry = "main";
  a.sets = {"lr=0.1", "b.dir=/x y/\"q\""};
  a.inputs = {"data=/d"};
  a.component_paths = {"/c"};
  a.python = "/usr/bin/python3";
  ASSERT_FALSE(bool(fs.writeFile("/w/runs/r/run.json", runArgsJson(a))));
  auto back = readRunArgs("/w/runs/r", fs);
  ASSERT_TRUE(bool(back)) << llvm::toString(back.takeError());
  EXPECT_EQ(back->file, a.file);
  EXPECT_EQ(back->entry, a.entry);
  EXPECT_EQ(back->sets, a.sets);
  EXPECT_EQ(back->inputs, a.inputs);
  EXPECT_EQ(back->component_paths, a.component_paths);
  EXPECT_EQ(back->python, a.python);
  auto none = readRunArgs("/w/runs/none", fs);
  EXPECT_FALSE(bool(none));
  llvm::consumeError(none.takeError());
}

TEST(Run, AResumeTakesWhatIsGivenOverTheRecord) {
  RunArgs recorded;
  recorded.file = "/p/a.yaml";
  recorded.sets = {"x=1", "y=2"};
  recorded.inputs = {"d=/d"};
  recorded.python = "/py";
  // Nothing given: the record.
  RunArgs plain = resumedArgs(recorded, {});
  EXPECT_EQ(plain.file, "/p/a.yaml");
  EXPECT_EQ(plain.sets, recorded.sets);
  EXPECT_EQ(plain.python, "/py");
  // --set given: it replaces the recorded --set, the rest stays.
  RunArgs sets;
  sets.sets = {"x=3"};
  RunArgs r = resumedArgs(recorded, sets);
  EXPECT_EQ(r.sets, std::vector<std::string>{"x=3"});
  EXPECT_EQ(r.inputs, recorded.inputs);
  EXPECT_EQ(r.file, "/p/a.yaml");
  // A FILE given: the command line says everything but the interpreter.
  RunArgs file;
  file.file = "/p/b.yaml";
  RunArgs f = resumedArgs(recorded, file);
  EXPECT_EQ(f.file, "/p/b.yaml");
  EXPECT_TRUE(f.sets.empty());
  EXPECT_TRUE(f.inputs.empty());
  EXPECT_EQ(f.python, "/py");
}

}  // namespace
}  // namespace pipec::runtime
