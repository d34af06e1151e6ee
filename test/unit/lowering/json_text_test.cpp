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

}  // namespace
}  // namespace pipec::lowering
