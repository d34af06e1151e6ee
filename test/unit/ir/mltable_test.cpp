// The MLTable reader: partition formats, the sample, what a file says.
#include "ir/mltable.h"

#include <gtest/gtest.h>

#include "llvm/Support/MemoryBuffer.h"

namespace pipec::ir::mltable {
namespace {

TEST(MLTable, PartitionFormatMatchesTheEndOfAPath) {
  std::string why;
  auto f =
      compilePartitionFormat("{Store}/{Brand}/{file_name}.{extension}", why);
  ASSERT_TRUE(f) << why;
  std::vector<std::string> v;
  ASSERT_TRUE(f->match("/data/run/1000/minute_maid/partitioned_data.csv", v));
  EXPECT_EQ(v, (std::vector<std::string>{"1000", "minute_maid",
                                         "partitioned_data", "csv"}));
  auto u = compilePartitionFormat("/{Store}_{Brand}.csv", why);
  ASSERT_TRUE(u) << why;
  ASSERT_TRUE(u->match("/x/data/12_a_b.csv", v));
  EXPECT_EQ(v, (std::vector<std::string>{"12", "a_b"}));
  EXPECT_FALSE(u->match("/x/data/12.csv", v));
  auto d = compilePartitionFormat("{Dept}/{When:yyyy/MM/dd}/data.csv", why);
  ASSERT_TRUE(d) << why;
  ASSERT_TRUE(d->match("/Accounts/2019/01/31/data.csv", v));
  EXPECT_EQ(v, (std::vector<std::string>{"Accounts", "2019-01-31T00:00:00"}));
  EXPECT_TRUE(d->columns[1].datetime);
  EXPECT_FALSE(d->match("/Accounts/2019/1/31/data.csv", v));
}

TEST(MLTable, BadPartitionFormats) {
  std::string why;
  EXPECT_FALSE(compilePartitionFormat("{Store}{Brand}.csv", why));
  EXPECT_EQ(why, "has two columns with nothing between them");
  EXPECT_FALSE(compilePartitionFormat("{Store", why));
  EXPECT_FALSE(compilePartitionFormat("data.csv", why));
  EXPECT_FALSE(compilePartitionFormat("{D:yyyy/QQ}", why));
  EXPECT_FALSE(compilePartitionFormat("{A}/{A}.csv", why));
}

TEST(MLTable, SampleIsDeterministicAndNearItsProbability) {
  int kept = 0;
  for (std::uint64_t i = 0; i < 10000; ++i) {
    bool s = sampled(42, i, 0.3);
    EXPECT_EQ(s, sampled(42, i, 0.3));
    kept += s;
  }
  EXPECT_GT(kept, 2800);
  EXPECT_LT(kept, 3200);
  EXPECT_TRUE(sampled(1, 5, 1.0));
  EXPECT_FALSE(sampled(1, 5, 0.0));
}

// What the Python splitter of the sh and k8s targets does not read: the
// first anchor, tag or block scalar, in document order, at its character.
TEST(MLTable, SplitterUnreadableFindsTheFirstConstruct) {
  auto first = [](const char* text) {
    llvm::SourceMgr sm;
    unsigned id = sm.AddNewSourceBuffer(
        llvm::MemoryBuffer::getMemBufferCopy(text, "MLTable"), llvm::SMLoc());
    auto [range, c] = splitterUnreadable(sm, id);
    if (!range.isValid()) return std::string("none");
    LineCol lc = resolveLoc(sm, range.Start);
    return std::string(1, c) + " " + std::to_string(lc.line) + ":" +
           std::to_string(lc.column);
  };
  EXPECT_EQ(first("paths:\n  - file: ./a.csv\n"), "none");
  EXPECT_EQ(first("paths:\n  - file: &f ./a.csv\n  - file: *f\n"), "& 2:11");
  EXPECT_EQ(first("paths: !!seq\n  - file: ./a.csv\n"), "! 1:8");
  EXPECT_EQ(first("paths:\n  - file: ./a.csv\ntransformations:\n"
                  "  - read_delimited:\n      delimiter: |\n        ,\n"
                  "  - skip: &n 1\n"),
            "| 5:18");
  EXPECT_EQ(first("&m paths: [{file: ./a.csv}]\n"), "& 1:1");
  // Not YAML: parse() reports it; nothing to say here.
  EXPECT_EQ(first("paths: [\n"), "none");
}

std::optional<MLTable> parseText(const char* text, StoringDiagnosticConsumer& c,
                                 llvm::SourceMgr& sm) {
  DiagnosticEngine diags(sm, c);
  unsigned id = sm.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(text, "MLTable"), llvm::SMLoc());
  return parse(sm, id, diags);
}

TEST(MLTable, ReadsWhatAzureWrites) {
  llvm::SourceMgr sm;
  StoringDiagnosticConsumer c;
  auto t = parseText(
      "paths:\n- pattern: ./**/*.csv\ntransformations:\n- read_delimited:\n"
      "    delimiter: ','\n    empty_as_string: false\n    encoding: ascii\n"
      "    header: all_files_same_headers\n    include_path_column: true\n"
      "- extract_columns_from_partition_format:\n"
      "    partition_format: '{Store}/{Brand}/{file_name}.{extension}'\n"
      "- drop_columns:\n  - Path\n  - file_name\n  - extension\n"
      "type: mltable\n",
      c, sm);
  ASSERT_TRUE(t);
  EXPECT_TRUE(c.diags.empty());
  EXPECT_TRUE(t->isTable());
  EXPECT_TRUE(t->include_path_column);
  std::vector<std::string> names;
  for (const PathColumn& p : t->pathColumns()) names.push_back(p.name);
  EXPECT_EQ(names, (std::vector<std::string>{"Path", "Store", "Brand",
                                             "file_name", "extension"}));
  EXPECT_EQ(t->drop_columns.size(), 3u);
}

TEST(MLTable, PathsOnlyIsAListOfFiles) {
  llvm::SourceMgr sm;
  StoringDiagnosticConsumer c;
  auto t = parseText(
      "paths:\n  - folder: ./images\ntransformations:\n"
      "  - take: 5\n",
      c, sm);
  ASSERT_TRUE(t);
  EXPECT_FALSE(t->isTable());
  EXPECT_EQ(*t->take, 5u);
}

TEST(MLTable, UnsupportedIsAnErrorNeverIgnored) {
  llvm::SourceMgr sm;
  StoringDiagnosticConsumer c;
  auto t = parseText(
      "paths:\n  - file: ./a.csv\ntransformations:\n"
      "  - read_delimited:\n      include_path_column: yes\n"
      "  - filter: x\n",
      c, sm);
  EXPECT_FALSE(t);
  ASSERT_EQ(c.diags.size(), 2u);
  EXPECT_EQ(c.diags[0].kind, DiagKind::MLTableBadValue);
  EXPECT_EQ(c.diags[1].kind, DiagKind::MLTableUnsupported);
}

}  // namespace
}  // namespace pipec::ir::mltable
