// Commits, resume, torn journals and the ordered gather.
#include <sys/resource.h>
#include <sys/stat.h>

#include <csignal>
#include <fstream>
#include <sstream>

#include "runtime/parallel/fd_io.h"
#include "runtime/parallel/journal.h"
#include "test/unit/runtime/parallel_test_util.h"

namespace pipec::runtime::parallel {
namespace {

Hash128 hashOf(int i) {
  Hash128 h;
  h.bytes[0] = std::uint8_t(i);
  h.bytes[15] = 0x5a;
  return h;
}

std::unique_ptr<CommitGroup> group(std::initializer_list<int> indices) {
  auto g = std::make_unique<CommitGroup>();
  for (int i : indices) {
    CommitGroup::Entry e;
    e.index = std::uint64_t(i);
    e.hash = hashOf(i);
    e.offset = g->rows.size();
    std::string rows = "row " + std::to_string(i) + "\n";
    e.length = rows.size();
    e.items = e.ok = 1;
    g->rows += rows;
    g->entries.push_back(e);
  }
  return g;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ParallelJournal, CommitResumeGather) {
  TempDir t;
  std::string dir = t.path() + "/state";
  std::vector<Location> order(4);
  {
    Problem p;
    auto j = Journal::open(dir, false, p);
    ASSERT_TRUE(j) << p.message();
    auto g1 = group({2, 0});
    j->commit(*g1);
    ASSERT_EQ(g1->error, "");
    auto g2 = group({3, 1});
    j->commit(*g2);
    order[2] = g1->where[0];
    order[0] = g1->where[1];
    order[3] = g2->where[0];
    order[1] = g2->where[1];
    ASSERT_FALSE(bool(j->gather(order, t.path() + "/out.txt")));
  }
  EXPECT_EQ(slurp(t.path() + "/out.txt"), "row 0\nrow 1\nrow 2\nrow 3\n");
  Problem p;
  auto j = Journal::open(dir, true, p);
  ASSERT_TRUE(j);
  EXPECT_EQ(j->committedCount(), 4u);
  const Committed* c = j->find(hashOf(3));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->where.segment, order[3].segment);
  EXPECT_GT(c->committed_ns, 0);
  EXPECT_FALSE(j->find(hashOf(9)));
}

// A journal write that fails half-way (here: the file size limit, as a full
// disk would) leaves no torn line behind: a later commit and a resume see
// every group committed before and after it.
TEST(ParallelJournal, AFailedWriteLeavesTheJournalWhole) {
  TempDir t;
  std::string dir = t.path() + "/state";
  Problem p;
  auto j = Journal::open(dir, false, p);
  ASSERT_TRUE(j) << p.message();
  auto g1 = group({0, 1});
  j->commit(*g1);
  ASSERT_EQ(g1->error, "");
  struct stat st;
  ASSERT_EQ(::stat((dir + "/journal").c_str(), &st), 0);
  struct rlimit old;
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  auto* previous = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = old;
  small.rlim_cur = rlim_t(st.st_size) + 40;  // part of the next group's lines
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  auto g2 = group({2, 3, 4, 5});
  j->commit(*g2);
  ::setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, previous);
  EXPECT_NE(g2->error.find("journal: "), std::string::npos) << g2->error;
  EXPECT_EQ(g2->error_errno, EFBIG);
  auto g3 = group({6});
  j->commit(*g3);
  ASSERT_EQ(g3->error, "");
  j.reset();
  auto again = Journal::open(dir, true, p);
  ASSERT_TRUE(again) << p.message();
  EXPECT_EQ(again->committedCount(), 3u);
  EXPECT_TRUE(again->find(hashOf(6)));
  EXPECT_FALSE(again->find(hashOf(2)));
}

TEST(ParallelJournal, CutTornLine) {
  TempDir t;
  std::string path = t.write("log.jsonl", "{\"a\":1}\n{\"b\":");
  ASSERT_TRUE(cutTornLine(path));
  EXPECT_EQ(slurp(path), "{\"a\":1}\n");
  ASSERT_TRUE(cutTornLine(path));  // whole lines stay
  EXPECT_EQ(slurp(path), "{\"a\":1}\n");
  path = t.write("one.txt", std::string(10000, 'x'));
  ASSERT_TRUE(cutTornLine(path));
  EXPECT_EQ(slurp(path), "");
  EXPECT_TRUE(cutTornLine(t.path() + "/missing"));
}

// Segments larger than the gather's read window, rows stored out of order
// (blocks of mini-batches finished last to first) and one mini-batch whose
// rows alone exceed a window: the output is still every row in order.
TEST(ParallelJournal, GatherAcrossLargeSegmentsInOrder) {
  TempDir t;
  Problem p;
  auto j = Journal::open(t.path() + "/state", false, p);
  ASSERT_TRUE(j) << p.message();
  const int n = 60000;
  auto rowOf = [](int i) {
    std::string r = "row " + std::to_string(i) + " ";
    r.resize(100, 'x');
    return r + "\n";
  };
  std::vector<Location> order(std::size_t(n) + 1);
  std::string expected;
  for (int i = 0; i < n; ++i) expected += rowOf(i);
  // Group 1: indices in blocks of 1,000, each block from last to first.
  CommitGroup g1;
  for (int block = 0; block < n; block += 1000)
    for (int i = block + 999; i >= block; --i) {
      CommitGroup::Entry e;
      e.index = std::uint64_t(i);
      e.hash = hashOf(i);
      e.offset = g1.rows.size();
      g1.rows += rowOf(i);
      e.length = g1.rows.size() - e.offset;
      e.items = e.ok = 1;
      g1.entries.push_back(e);
    }
  ASSERT_GT(g1.rows.size(), std::size_t(5) << 20);
  j->commit(g1);
  ASSERT_EQ(g1.error, "");
  for (std::size_t k = 0; k < g1.entries.size(); ++k)
    order[g1.entries[k].index] = g1.where[k];
  // Group 2: one mini-batch of 5 MB of rows, last in the order.
  CommitGroup g2;
  CommitGroup::Entry big;
  big.index = std::uint64_t(n);
  big.hash = hashOf(n);
  for (int i = 0; i < 50000; ++i) g2.rows += rowOf(n + i);
  big.length = g2.rows.size();
  big.items = big.ok = 50000;
  g2.entries.push_back(big);
  j->commit(g2);
  ASSERT_EQ(g2.error, "");
  order[std::size_t(n)] = g2.where[0];
  expected += g2.rows;
  ASSERT_FALSE(bool(j->gather(order, t.path() + "/out.txt")));
  std::string got = slurp(t.path() + "/out.txt");
  ASSERT_EQ(got.size(), expected.size());
  EXPECT_TRUE(got == expected);
}

TEST(ParallelJournal, TornTailIsCutAndMissingSegmentsDropped) {
  TempDir t;
  std::string dir = t.path() + "/state";
  std::uint32_t seg2;
  {
    Problem p;
    auto j = Journal::open(dir, false, p);
    auto g1 = group({0});
    j->commit(*g1);
    auto g2 = group({1});
    j->commit(*g2);
    seg2 = g2->where[0].segment;
  }
  {
    std::ofstream app(dir + "/journal", std::ios::app);
    app << "C 0011";  // a crash in the middle of a line
  }
  ::unlink((dir + "/segments/" + std::to_string(seg2) + ".rows").c_str());
  Problem p;
  auto j = Journal::open(dir, true, p);
  ASSERT_TRUE(j) << p.message();
  EXPECT_TRUE(j->find(hashOf(0)));
  EXPECT_FALSE(j->find(hashOf(1)));
  std::string text = slurp(dir + "/journal");
  EXPECT_EQ(text.back(), '\n');
  // Appending after the cut keeps the journal readable.
  auto g3 = group({5});
  j->commit(*g3);
  j.reset();
  j = Journal::open(dir, true, p);
  EXPECT_TRUE(j->find(hashOf(5)));
  EXPECT_TRUE(j->find(hashOf(0)));
}

TEST(ParallelJournal, FreshStartForgetsEarlierRuns) {
  TempDir t;
  std::string dir = t.path() + "/state";
  Problem p;
  {
    auto j = Journal::open(dir, false, p);
    auto g = group({0});
    j->commit(*g);
  }
  auto j = Journal::open(dir, false, p);
  EXPECT_EQ(j->committedCount(), 0u);
}

TEST(ParallelJournal, CommitterReportsEveryGroup) {
  TempDir t;
  Problem p;
  auto j = Journal::open(t.path() + "/state", false, p);
  Committer c(*j, t.path() + "/records.jsonl");
  for (int i = 0; i < 5; ++i) {
    auto g = group({i});
    g->id = std::uint64_t(i);
    g->records = "{\"index\":" + std::to_string(i) + "}\n";
    c.submit(std::move(g));
  }
  c.drain();
  auto done = c.collect();
  ASSERT_EQ(done.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(done[i]->id, i);
  EXPECT_EQ(slurp(t.path() + "/records.jsonl").size(), 5 * 12u);
}

}  // namespace
}  // namespace pipec::runtime::parallel
