// Splitting inputs into mini-batches: folders, tables, partitions.
#include <fcntl.h>
#include <unistd.h>

#include <climits>
#include <fstream>
#include <sstream>

#include "llvm/Support/JSON.h"
#include "runtime/parallel/batch_source.h"
#include "runtime/parallel/table.h"
#include "test/unit/runtime/parallel_test_util.h"

namespace pipec::runtime::parallel {
namespace {

using BatchBy = ir::ParallelSettings::BatchBy;

std::vector<MiniBatch> all(const SourceOptions& o, Problem* problem = nullptr) {
  Problem p;
  std::vector<MiniBatch> out;
  auto src = openBatchSource(o, p);
  if (src) {
    MiniBatch mb;
    while (src->next(mb)) out.push_back(mb);
    if (src->failed()) p = src->problem();
  }
  if (problem)
    *problem = p;
  else
    EXPECT_TRUE(p.empty()) << p.message();
  return out;
}

llvm::json::Value parse(const std::string& text) {
  auto v = llvm::json::parse(text);
  EXPECT_TRUE(bool(v)) << text;
  if (!v) {
    llvm::consumeError(v.takeError());
    return nullptr;
  }
  return std::move(*v);
}

std::string slice(const MiniBatch& mb) {
  llvm::json::Value v = parse(mb.payload);
  const llvm::json::Object* o = v.getAsObject();
  std::ifstream in(o->getString("f")->str(), std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string all = ss.str();
  std::int64_t b = *o->getInteger("b"), e = *o->getInteger("e");
  return all.substr(std::size_t(b), std::size_t(e - b));
}

SourceOptions folderOptions(const TempDir& t, const std::string& dir,
                            std::uint64_t n) {
  SourceOptions o;
  o.input_path = dir;
  o.mini_batch_size = n;
  o.scratch_dir = t.sub("scratch");
  return o;
}

TEST(ParallelSource, FolderByCountInPathOrder) {
  TempDir t;
  for (const char* f : {"b/2.txt", "a.txt", "b/1.txt", "c/d/e.txt", "z.txt"})
    t.write(std::string("in/") + f, "x");
  Problem p;
  auto src = openBatchSource(folderOptions(t, t.path() + "/in", 2), p);
  ASSERT_TRUE(src);
  EXPECT_EQ(src->total(), std::optional<std::uint64_t>(3));
  std::vector<MiniBatch> b = all(folderOptions(t, t.path() + "/in", 2));
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[0].items, 2u);
  EXPECT_EQ(b[2].items, 1u);
  EXPECT_EQ(b[0].index, 0u);
  EXPECT_EQ(b[2].index, 2u);
  EXPECT_EQ(b[0].label, "a.txt");
  llvm::json::Value v = parse(b[1].payload);
  const llvm::json::Array* paths = v.getAsArray();
  ASSERT_TRUE(paths);
  ASSERT_EQ(paths->size(), 2u);
  EXPECT_EQ(*(*paths)[0].getAsString(), t.path() + "/in/b/2.txt");
  EXPECT_EQ(*(*paths)[1].getAsString(), t.path() + "/in/c/d/e.txt");
}

TEST(ParallelSource, FolderHashesFollowTheNames) {
  TempDir t;
  for (int i = 0; i < 6; ++i) t.write("in/f" + std::to_string(i), "x");
  SourceOptions o = folderOptions(t, t.path() + "/in", 2);
  std::vector<MiniBatch> a = all(o), b = all(o);
  ASSERT_EQ(a.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(a[i].hash, b[i].hash);
  EXPECT_NE(a[0].hash, a[1].hash);
  llvm::sys::fs::rename(t.path() + "/in/f3", t.path() + "/in/f3b");
  std::vector<MiniBatch> c = all(o);
  EXPECT_EQ(c[0].hash, a[0].hash);
  EXPECT_NE(c[1].hash, a[1].hash);
  EXPECT_EQ(c[2].hash, a[2].hash);
}

TEST(ParallelSource, ChangedFilesAreSeen) {
  TempDir t;
  t.write("in/a", "x");
  std::vector<MiniBatch> b = all(folderOptions(t, t.path() + "/in", 5));
  ASSERT_EQ(b.size(), 1u);
  int root = ::open((t.path() + "/in").c_str(), O_PATH | O_DIRECTORY);
  EXPECT_TRUE(filesUnchangedSince(root, b[0].files, INT64_MAX));
  EXPECT_FALSE(filesUnchangedSince(root, b[0].files, 0));
  ::unlink((t.path() + "/in/a").c_str());
  EXPECT_FALSE(filesUnchangedSince(root, b[0].files, INT64_MAX));
  ::close(root);
}

TEST(ParallelSource, MissingInput) {
  TempDir t;
  Problem p;
  all(folderOptions(t, t.path() + "/nope", 1), &p);
  EXPECT_EQ(p.kind, ir::DiagKind::ParallelInputUnreadable);
  EXPECT_NE(p.message().find("No such file or directory"), std::string::npos);
}

TEST(ParallelSource, HivePartitions) {
  TempDir t;
  for (const char* f : {"Store=1/Brand=a/x.csv", "Store=1/Brand=a/y.csv",
                        "Store=1/Brand=b/x.csv", "Store=2/Brand=a/x.csv"})
    t.write(std::string("in/") + f, "x");
  SourceOptions o = folderOptions(t, t.path() + "/in", 1);
  o.batch_by = BatchBy::PartitionKeys;
  o.partition_keys = {"Store", "Brand"};
  std::vector<MiniBatch> b = all(o);
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[0].items, 2u);
  EXPECT_EQ(b[0].label, "Store=1, Brand=a");
  llvm::json::Value v = parse(b[2].payload);
  const llvm::json::Object* pk = v.getAsObject()->getObject("pk");
  ASSERT_TRUE(pk);
  EXPECT_EQ(*(*pk->getArray("v"))[0].getAsString(), "2");
  o.partition_keys = {"Region"};
  Problem p;
  all(o, &p);
  EXPECT_EQ(p.kind, ir::DiagKind::ParallelPartitionKeyMissing);
}

TEST(ParallelSource, RowScannerRespectsQuotes) {
  TempDir t;
  std::string path =
      t.write("t.csv", "a,b\n1,\"x\ny\"\n\n2,\"he said \"\"hi\"\"\"\r\n3,z");
  RowScanner s;
  ASSERT_TRUE(s.open(path, true));
  std::vector<std::string> rows;
  std::vector<bool> blank;
  Row r;
  while (s.next(r)) {
    rows.push_back(r.bytes.str());
    blank.push_back(r.blank);
  }
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[1], "1,\"x\ny\"\n");
  EXPECT_TRUE(blank[2]);
  EXPECT_EQ(rows[3], "2,\"he said \"\"hi\"\"\"\r\n");
  EXPECT_EQ(rows[4], "3,z");
}

TEST(ParallelSource, UnterminatedQuoteIsAnError) {
  TempDir t;
  std::string text = "a,b\n1,\"never closed\n";
  for (int i = 0; i < 300000; ++i) text += "more,rows\n";
  std::string path = t.write("t.csv", text);
  RowScanner s;
  s.setMaxRow(1u << 20);
  ASSERT_TRUE(s.open(path, true));
  Row r;
  ASSERT_TRUE(s.next(r));  // the header
  EXPECT_FALSE(s.next(r));
  EXPECT_EQ(s.error(),
            "the row at byte 4 is longer than 1 MB (an unterminated quote?)");
}

TEST(ParallelSource, TableBySizeNeverSplitsRows) {
  TempDir t;
  std::string text = "id,note\n";
  for (int i = 0; i < 200; ++i)
    text += std::to_string(i) + ",\"line one\nline, two " + std::to_string(i) +
            "\"\n";
  t.write("tab/data.csv", text);
  SourceOptions o;
  o.input_path = t.path() + "/tab";
  o.input_type = ir::Type::Table;
  o.batch_by = BatchBy::Size;
  o.mini_batch_size = 256;
  o.scratch_dir = t.sub("scratch");
  std::vector<MiniBatch> b = all(o);
  ASSERT_GT(b.size(), 10u);
  std::string joined = "id,note\n";
  std::uint64_t items = 0;
  for (const MiniBatch& mb : b) {
    std::string s = slice(mb);
    EXPECT_GE(s.size(), mb.index + 1 < b.size() ? 256u : 1u);
    EXPECT_EQ(s.back(), '\n');
    joined += s;
    items += mb.items;
    llvm::json::Value v = parse(mb.payload);
    EXPECT_EQ(*v.getAsObject()->getString("h"), "id,note\n");
  }
  EXPECT_EQ(joined, text);
  EXPECT_EQ(items, 200u);
}

TEST(ParallelSource, JsonLinesAndBlankLines) {
  TempDir t;
  std::string path =
      t.write("rows.jsonl", "{\"id\": 1}\n\n{\"id\": 2}\n{\"id\": 3}\n");
  SourceOptions o;
  o.input_path = path;
  o.input_type = ir::Type::Table;
  o.batch_by = BatchBy::Size;
  o.mini_batch_size = 1 << 20;
  o.scratch_dir = t.sub("scratch");
  std::vector<MiniBatch> b = all(o);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].items, 3u);
  EXPECT_NE(b[0].payload.find("\"fmt\":\"jsonl\""), std::string::npos);
}

TEST(ParallelSource, MLTable) {
  TempDir t;
  t.write("mt/data/a.csv", "1;x\n2;y\n");
  t.write("mt/data/b.csv", "3;z\n");
  t.write("mt/MLTable",
          "paths:\n  - pattern: ./data/*.csv\ntransformations:\n"
          "  - read_delimited:\n      delimiter: ';'\n      header: no_header\n"
          "      encoding: latin1\n");
  std::vector<TableFile> files;
  Problem p;
  ASSERT_TRUE(resolveTableFiles(t.path() + "/mt", t.sub("s"), files, p))
      << p.message();
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].rel, "data/a.csv");
  EXPECT_EQ(files[0].sep, ';');
  EXPECT_EQ(files[0].header, TableFile::Header::None);
  EXPECT_EQ(files[0].encoding.pythonCodec(), "latin-1");
  t.write("bad/MLTable",
          "paths:\n  - file: ./x.csv\ntransformations:\n  - filter: x\n");
  files.clear();
  EXPECT_FALSE(resolveTableFiles(t.path() + "/bad", t.sub("s"), files, p));
  EXPECT_EQ(p.kind, ir::DiagKind::MLTableInvalid);
  EXPECT_NE(
      p.message().find("4:5: MLTable transformation 'filter' is not supported"),
      std::string::npos)
      << p.message();
}

TEST(ParallelSource, PartitionKeysOnTables) {
  TempDir t;
  std::string text = "store,brand,qty\n";
  for (int i = 0; i < 30; ++i)
    text += std::to_string(i % 3) + "," + (i % 2 ? "\"b,1\"" : "a") + "," +
            std::to_string(i) + "\n";
  t.write("sales.csv", text);
  SourceOptions o;
  o.input_path = t.path() + "/sales.csv";
  o.input_type = ir::Type::Table;
  o.batch_by = BatchBy::PartitionKeys;
  o.partition_keys = {"store", "brand"};
  o.scratch_dir = t.sub("scratch");
  o.partition_memory = 64;  // flush often
  std::vector<MiniBatch> b = all(o);
  ASSERT_EQ(b.size(), 6u);
  std::uint64_t items = 0;
  for (const MiniBatch& mb : b) items += mb.items;
  EXPECT_EQ(items, 30u);
  // In order of first appearance: (0,a), (1,"b,1"), (2,a), (0,"b,1"), ...
  EXPECT_EQ(b[0].label, "store=0, brand=a");
  EXPECT_EQ(b[1].label, "store=1, brand=b,1");
  EXPECT_EQ(slice(b[0]), "0,a,0\n0,a,6\n0,a,12\n0,a,18\n0,a,24\n");
  o.partition_keys = {"region"};
  Problem p;
  all(o, &p);
  EXPECT_EQ(p.kind, ir::DiagKind::ParallelPartitionKeyMissing);
}

}  // namespace
}  // namespace pipec::runtime::parallel
