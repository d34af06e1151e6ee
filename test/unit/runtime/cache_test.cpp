// The step cache's units: digests, the per-file records (what is read and
// what is not), the key of a step, and option values.
#include "runtime/cache.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "llvm/Support/FileSystem.h"
#include "runtime/plan.h"

namespace pipec::runtime {
namespace {

std::string tempDir() {
  llvm::SmallString<128> p;
  llvm::sys::fs::createUniqueDirectory("cache-test", p);
  return std::string(p);
}

void write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// Sets the modification time of `path` to `seconds` after the epoch.
void setMtime(const std::string& path, std::int64_t seconds) {
  struct timespec t[2] = {{seconds, 0}, {seconds, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), t, 0), 0);
}

// True when `e` is an error (which it takes).
bool fails(llvm::Expected<Digest> e) {
  if (e) return false;
  llvm::consumeError(e.takeError());
  return true;
}

std::int64_t farFuture() { return std::int64_t(1) << 40; }
std::int64_t distantPast() { return 0; }

TEST(Digest, HexRoundTrips) {
  Digest d{0x0123456789abcdefull, 0xfedcba9876543210ull};
  EXPECT_EQ(d.hex(), "0123456789abcdeffedcba9876543210");
  EXPECT_EQ(Digest::parse(d.hex()), d);
  EXPECT_FALSE(Digest::parse("0123"));
  EXPECT_FALSE(Digest::parse("z123456789abcdeffedcba9876543210"));
}

TEST(KeyHasher, FieldsAreDelimited) {
  KeyHasher a, b, c;
  a.add("ab");
  a.add("c");
  b.add("a");
  b.add("bc");
  c.add("ab");
  c.add("c");
  EXPECT_NE(a.finish(), b.finish());
  EXPECT_EQ(a.finish(), c.finish());
  EXPECT_NE(digestOf("x"), digestOf("y"));
}

TEST(FileRecords, AnUnchangedFileIsNotReadAgain) {
  std::string dir = tempDir();
  write(dir + "/a", "hello");
  write(dir + "/b", "world");
  setMtime(dir + "/a", 1000);
  setMtime(dir + "/b", 1000);
  ContentHasher h;
  h.now_seconds = farFuture;
  auto first = h.tree(dir);
  ASSERT_TRUE(bool(first));
  EXPECT_EQ(h.reads(), 2u);
  auto again = h.tree(dir);
  ASSERT_TRUE(bool(again));
  EXPECT_EQ(*first, *again);
  EXPECT_EQ(h.reads(), 2u);  // stat only
  // The records survive a save and a load.
  ContentHasher loaded;
  loaded.now_seconds = farFuture;
  loaded.load(h.save());
  auto third = loaded.tree(dir);
  ASSERT_TRUE(bool(third));
  EXPECT_EQ(*third, *first);
  EXPECT_EQ(loaded.reads(), 0u);
  llvm::sys::fs::remove_directories(dir);
}

TEST(FileRecords, ASameSizeSameMtimeChangeIsSeen) {
  std::string dir = tempDir();
  std::string f = dir + "/a";
  write(f, "hello");
  setMtime(f, 1000);
  ContentHasher h;
  h.now_seconds = farFuture;
  auto before = h.file(f);
  ASSERT_TRUE(bool(before));
  ::usleep(20000);  // a later change time, whatever its resolution
  write(f, "jello");
  setMtime(f, 1000);
  auto after = h.file(f);
  ASSERT_TRUE(bool(after));
  EXPECT_NE(*before, *after);
  EXPECT_EQ(h.reads(), 2u);
  llvm::sys::fs::remove_directories(dir);
}

TEST(FileRecords, ARecordOfTheSecondOfTheChangeIsNotTrusted) {
  std::string dir = tempDir();
  std::string f = dir + "/a";
  write(f, "hello");
  ContentHasher h;
  // Hashed in the same second as the file changed (the clock stands
  // still): it could change again unseen, so it is read the next time too.
  h.now_seconds = distantPast;
  ASSERT_TRUE(bool(h.file(f)));
  ASSERT_TRUE(bool(h.file(f)));
  EXPECT_EQ(h.reads(), 2u);
  EXPECT_EQ(h.save(), "pipec-file-records 1\n");  // nothing kept
  h.now_seconds = farFuture;
  ASSERT_TRUE(bool(h.file(f)));
  ASSERT_TRUE(bool(h.file(f)));
  EXPECT_EQ(h.reads(), 3u);
  llvm::sys::fs::remove_directories(dir);
}

TEST(FileRecords, TreesDependOnNamesAndContents) {
  std::string dir = tempDir();
  ::mkdir((dir + "/x").c_str(), 0755);
  write(dir + "/x/a", "1");
  ContentHasher h;
  auto one = h.tree(dir + "/x");
  ::rename((dir + "/x/a").c_str(), (dir + "/x/b").c_str());
  auto renamed = h.tree(dir + "/x");
  write(dir + "/x/c", "");
  auto added = h.tree(dir + "/x");
  ASSERT_TRUE(one && renamed && added);
  EXPECT_NE(*one, *renamed);
  EXPECT_NE(*renamed, *added);
  // A link to a file counts as the file; a loop of links ends.
  ::symlink("b", (dir + "/x/link").c_str());
  ::symlink("loop", (dir + "/x/loop").c_str());
  EXPECT_TRUE(bool(h.tree(dir + "/x")));
  EXPECT_TRUE(fails(h.tree(dir + "/missing")));
  llvm::sys::fs::remove_directories(dir);
}

// A plan of two steps, b reading a's output, without the front end.
RunPlan twoSteps(const std::string& run_dir) {
  RunPlan plan;
  plan.run_dir = run_dir;
  plan.python = "python3";
  for (const char* name : {"a", "b"}) {
    StepPlan s;
    s.name = name;
    s.dir = run_dir + "/" + name;
    s.ml_root = s.dir + "/ml";
    s.command = "echo hi > " + s.ml_root + "/output/out/x";
    s.env = {{"PAI_OUTPUT_OUT", s.ml_root + "/output/out"}};
    s.outputs.push_back(
        {"out", ir::Type::Folder, s.ml_root + "/output/out", ""});
    plan.steps.push_back(std::move(s));
  }
  InputLink l;
  l.channel = "in";
  l.producer = 0;
  l.producer_output = "out";
  l.target = run_dir + "/a/ml/output/out";
  plan.steps[1].links.push_back(l);
  plan.steps[1].deps = {0};
  return plan;
}

Digest keyOf(RunPlan& plan, std::size_t i) {
  auto k = stepKey(plan, i, nullptr);
  EXPECT_TRUE(bool(k));
  plan.steps[i].key = k ? *k : Digest{};
  return plan.steps[i].key;
}

TEST(StepKey, TheRunDirectoryIsNotPartOfIt) {
  RunPlan r1 = twoSteps("/w/runs/r1"), r2 = twoSteps("/w/runs/another-run");
  EXPECT_EQ(keyOf(r1, 0), keyOf(r2, 0));
  EXPECT_EQ(keyOf(r1, 1), keyOf(r2, 1));
}

TEST(StepKey, FollowsTheStepAndItsProducers) {
  RunPlan base = twoSteps("/w/runs/r1");
  Digest a = keyOf(base, 0), b = keyOf(base, 1);
  EXPECT_NE(a, b);
  RunPlan env = twoSteps("/w/runs/r1");
  env.steps[0].env.push_back({"X", "1"});
  EXPECT_NE(keyOf(env, 0), a);
  EXPECT_NE(keyOf(env, 1), b);  // through a's key
  RunPlan cmd = twoSteps("/w/runs/r1");
  cmd.steps[1].command += " # changed";
  EXPECT_EQ(keyOf(cmd, 0), a);
  EXPECT_NE(keyOf(cmd, 1), b);
  RunPlan image = twoSteps("/w/runs/r1");
  image.steps[0].image = "python:3.11";
  EXPECT_NE(keyOf(image, 0), a);
}

TEST(StepKey, CodeAndDataByContents) {
  std::string dir = tempDir();
  ::mkdir((dir + "/code").c_str(), 0755);
  ::mkdir((dir + "/data").c_str(), 0755);
  write(dir + "/code/main.sh", "echo 1");
  write(dir + "/data/d.csv", "1,2");
  RunPlan plan = twoSteps("/w/runs/r1");
  plan.steps[0].code = dir + "/code";
  InputLink l;
  l.channel = "data";
  l.target = dir + "/data";
  plan.steps[0].links.push_back(l);
  ContentHasher h;
  auto k1 = stepKey(plan, 0, &h);
  write(dir + "/code/main.sh", "echo 2");
  auto k2 = stepKey(plan, 0, &h);
  write(dir + "/data/d.csv", "1,3");
  auto k3 = stepKey(plan, 0, &h);
  ASSERT_TRUE(k1 && k2 && k3);
  EXPECT_NE(*k1, *k2);
  EXPECT_NE(*k2, *k3);
  // Data that cannot be read is an error, not a key.
  ::unlink((dir + "/data/d.csv").c_str());
  ::symlink("/proc/self/mem", (dir + "/data/mem").c_str());
  EXPECT_TRUE(fails(stepKey(plan, 0, &h)));
  llvm::sys::fs::remove_directories(dir);
}

TEST(CacheOptions, AgesAndSizes) {
  EXPECT_EQ(parseAge("7d"), 7 * 86400);
  EXPECT_EQ(parseAge("30m"), 1800);
  EXPECT_EQ(parseAge("2w"), 14 * 86400);
  EXPECT_FALSE(parseAge("7"));
  EXPECT_FALSE(parseAge("-1d"));
  EXPECT_FALSE(parseAge("d"));
  EXPECT_EQ(parseSize("10G"), std::int64_t(10) << 30);
  EXPECT_EQ(parseSize("500M"), std::int64_t(500) << 20);
  EXPECT_EQ(parseSize("1.5KiB"), 1536);
  EXPECT_EQ(parseSize("4096"), 4096);
  EXPECT_FALSE(parseSize("lots"));
  EXPECT_FALSE(parseSize("-1G"));
  EXPECT_FALSE(parseSize(""));
}

}  // namespace
}  // namespace pipec::runtime
