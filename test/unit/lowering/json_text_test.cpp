// JsonWriter writes what llvm::json prints for the same value.
#include "lowering/json_text.h"

#include <gtest/gtest.h>

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

namespace pipec::lowering {
namespace {

std::string viaLlvm(const llvm::json::Value& v) {
  return llvm::formatv("{0:2}", v).str();
}

TEST(JsonWriter, NestedObjectsAsLlvmPrintsThem) {
  JsonWriter w;
  w.beginObject();
  w.key("a");
  w.beginObject();
  w.endObject();
  w.key("b");
  w.beginObject();
  w.key("x");
  w.value(std::int64_t(-3));
  w.key("y");
  w.value("y");
  w.endObject();
  w.key("c");
  w.value(std::int64_t(0));
  w.endObject();
  llvm::json::Object inner{{"x", -3}, {"y", "y"}};
  llvm::json::Value v = llvm::json::Object{
      {"a", llvm::json::Object{}}, {"b", std::move(inner)}, {"c", 0}};
  EXPECT_EQ(w.take(), viaLlvm(v));
}

TEST(JsonWriter, EscapesAsLlvmDoes) {
  // Quotes, backslashes, short and long control escapes, DEL, UTF-8.
  std::string s = "a\"b\\c\td\ne\rf";
  s += '\x01';
  s += '\x1f';
  s += "\x7f \xc3\xa9 \xe2\x82\xac";
  JsonWriter w;
  w.beginObject();
  w.key(s);
  w.value(s);
  w.endObject();
  EXPECT_EQ(w.take(), viaLlvm(llvm::json::Object{{s, s}}));
}

TEST(JsonWriter, ReplacesBytesThatAreNotUtf8AsLlvmDoes) {
  std::string bad = "p\xff/q\xc3";
  JsonWriter w;
  w.value(bad);
  EXPECT_EQ(w.take(), viaLlvm(llvm::json::Value(llvm::json::fixUTF8(bad))));
}

// Each byte that needs an escape (or a check, for UTF-8) at every offset of
// strings of many lengths, around the runs copied whole.
TEST(AppendJsonValue, EachSpecialByteAtEveryOffsetAsLlvm) {
  const std::vector<std::string> specials = {
      "\"",   "\\",   "\n",       "\t",           std::string(1, '\0'),
      "\x1f", "\x7f", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
      "\xff", "\xc3"};
  for (std::size_t size : {0, 1, 15, 16, 17, 31, 32, 33, 47, 64}) {
    std::string bare;
    for (std::size_t i = 0; i < size; ++i) bare += char('a' + i % 26);
    std::string out;
    appendJsonValue(out, bare);
    EXPECT_EQ(out, viaLlvm(llvm::json::Value(bare)));
    for (const std::string& special : specials)
      for (std::size_t at = 0; at <= size; ++at) {
        std::string s = bare;
        s.insert(at, special);
        std::string got;
        appendJsonValue(got, s);
        std::string fixed = llvm::json::isUTF8(s) ? s : llvm::json::fixUTF8(s);
        EXPECT_EQ(got, viaLlvm(llvm::json::Value(fixed)))
            << "size " << size << " at " << at;
        if (llvm::json::isUTF8(s)) {
          std::string direct;
          appendJsonString(direct, s);
          EXPECT_EQ(direct, got) << "size " << size << " at " << at;
        }
      }
  }
}

// Two bytes to escape anywhere in one string: after each escape, the run up
// to the next is copied as it is.
TEST(AppendJsonValue, TwoSpecialBytesAnywhereAsLlvm) {
  const std::vector<std::string> specials = {
      "\"", "\\", "\n", std::string(1, '\x01'), "\xc3\xa9", "\xff"};
  std::string bare = "abcdefghijklmnopq";
  for (const std::string& a : specials)
    for (const std::string& b : specials)
      for (std::size_t i = 0; i <= bare.size(); ++i)
        for (std::size_t j = i; j <= bare.size(); ++j) {
          std::string s = bare;
          s.insert(j, b);
          s.insert(i, a);
          std::string got;
          appendJsonValue(got, s);
          std::string fixed =
              llvm::json::isUTF8(s) ? s : llvm::json::fixUTF8(s);
          ASSERT_EQ(got, viaLlvm(llvm::json::Value(fixed)))
              << "at " << i << " and " << j;
        }
}

}  // namespace
}  // namespace pipec::lowering
