// Unit tests of the Azure ML backend's YAML writer: every string reads back
// as written through pipec's own reader, and plain scalars are only those
// YAML 1.1 and 1.2 read alike.
#include <gtest/gtest.h>

#include "backends/azureml/yaml_out.h"
#include "ir/yaml_reader.h"
#include "llvm/Support/MemoryBuffer.h"

namespace pipec::backends::azureml {
namespace {

struct Read {
  llvm::SourceMgr sm;
  ir::StoringDiagnosticConsumer diags;
  ir::DiagnosticEngine engine{sm, diags};
  std::unique_ptr<ir::yaml::Document> doc;
  explicit Read(const std::string& text) {
    sm.AddNewSourceBuffer(llvm::MemoryBuffer::getMemBufferCopy(text, "o.yml"),
                          llvm::SMLoc());
    doc = ir::yaml::parse(sm, 1, engine);
  }
};

TEST(AzureYaml, HostileStringsReadBack) {
  std::vector<std::string> values = {
      "a: b",
      "# not a comment",
      "- leading dash",
      "${{parent.inputs.x}}",
      "${{ x }}",
      "it's",
      "say \"hi\"",
      "back\\slash",
      "line\nbreak",
      "tab\there",
      " lead",
      "trail ",
      "yes",
      "On",
      "null",
      "~",
      "0755",
      "1.0",
      "1e3",
      ".inf",
      "true",
      "[a, b]",
      "{a: 1}",
      "&anchor",
      "*alias",
      "!tag",
      "%directive",
      "@at",
      "`tick`",
      "|",
      ">",
      "?",
      ":",
      "a #b",
      "caf\xc3\xa9",
      "\x7f del",
      "cr\rhere",
      "bell\x07",
      "---",
      "...",
  };
  for (int c = 1; c < 0x80; ++c) values.push_back(std::string(1, char(c)));
  for (const std::string& v : values) {
    YNode doc = YNode::map();
    doc.set("key", YNode::str(v));
    doc.set("k: " + v.substr(0, 3), YNode::str(v));
    Read r(doc.text());
    ASSERT_TRUE(r.doc) << doc.text();
    EXPECT_TRUE(r.diags.diags.empty()) << doc.text();
    const ir::yaml::Node* n = r.doc->root()->get("key");
    ASSERT_TRUE(n && n->isScalar()) << doc.text();
    EXPECT_EQ(n->value, v) << doc.text();
    const ir::yaml::Node* k = r.doc->root()->get("k: " + v.substr(0, 3));
    ASSERT_TRUE(k && k->isScalar()) << doc.text();
    EXPECT_EQ(k->value, v) << doc.text();
  }
}

TEST(AzureYaml, PlainOnlyWhenEveryReaderAgrees) {
  for (const char* s : {"python", "score.py", "run_function", "a-b_c.d/e",
                        "${{inputs.x}}", "${{parent.jobs.a.outputs.o}}"})
    EXPECT_TRUE(plainSafe(s)) << s;
  for (const char* s :
       {"",    "yes",      "No",       "ON",        "off",  "y",
        "N",   "null",     "Null",     "~",         "true", "1.0",
        "10",  "0x1F",     "-x",       ".inf",      "a: b", "a #b",
        "a b", "${{a b}}", "${{x}} y", "x: ${{y}}", "'q'",  "\"q\""})
    EXPECT_FALSE(plainSafe(s)) << s;
  EXPECT_EQ(doubleQuoted("a\"b\\c\nd\x01"), "\"a\\\"b\\\\c\\nd\\x01\"");
}

TEST(AzureYaml, StructureReadsBack) {
  YNode doc = YNode::map();
  YNode list = YNode::seq();
  YNode item = YNode::map();
  item.set("x", YNode::plain("1"));
  item.set("y", YNode::str("two"));
  list.push(std::move(item));
  list.push(YNode::str("three: 3"));
  doc.set("list", std::move(list));
  doc.set("empty_map", YNode::map());
  doc.set("empty_seq", YNode::seq());
  doc.set("nothing", YNode::plain(""));
  YNode shared = YNode::map();
  shared.set("name", YNode::str("c"));
  shared.anchor = "c";
  doc.set("first", std::move(shared));
  doc.set("second", YNode::aliasOf("c"));
  doc.set("float", YNode::number(2));
  // set() replaces in place.
  doc.set("list", doc.entries[0].second);
  Read r(doc.text());
  ASSERT_TRUE(r.doc) << doc.text();
  const ir::yaml::Node* root = r.doc->root();
  const ir::yaml::Node* l = root->get("list");
  ASSERT_TRUE(l && l->isSeq());
  ASSERT_EQ(l->items.size(), 2u);
  EXPECT_EQ(l->items[0]->get("x")->value, "1");
  EXPECT_TRUE(l->items[0]->get("x")->plain);
  EXPECT_EQ(l->items[1]->value, "three: 3");
  EXPECT_TRUE(root->get("empty_map")->isMap());
  EXPECT_TRUE(root->get("empty_seq")->isSeq());
  EXPECT_TRUE(root->get("nothing")->isNull());
  EXPECT_EQ(root->get("second")->get("name")->value, "c");
  EXPECT_EQ(root->get("float")->value, "2.0");
  EXPECT_EQ(doc.entries.size(), 7u);
}

}  // namespace
}  // namespace pipec::backends::azureml
