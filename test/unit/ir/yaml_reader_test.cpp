// Unit tests of the YAML reader: locations, styles, limits, hostile input.
#include "ir/yaml_reader.h"

#include <gtest/gtest.h>

#include "llvm/Support/MemoryBuffer.h"

namespace pipec::ir::yaml {
namespace {

struct Parsed {
  llvm::SourceMgr sm;
  ir::StoringDiagnosticConsumer diags;
  ir::DiagnosticEngine engine{sm, diags};
  std::unique_ptr<Document> doc;
  Parsed(llvm::StringRef text, Limits limits = {}) {
    sm.AddNewSourceBuffer(llvm::MemoryBuffer::getMemBufferCopy(text, "f.yaml"),
                          llvm::SMLoc());
    doc = parse(sm, 1, engine, limits);
  }
  std::string loc(llvm::SMLoc l) { return ir::formatLoc(sm, l); }
};

TEST(YamlReader, LocationsAndStyles) {
  Parsed p("a: 1\nb:\n  c: \"x\"\n  d: [y, 'z']\n");
  ASSERT_TRUE(p.doc);
  const Node* root = p.doc->root();
  ASSERT_TRUE(root->isMap());
  const Node* c = root->get("b")->get("c");
  EXPECT_EQ(p.loc(c->range.Start), "f.yaml:3:6");
  EXPECT_FALSE(c->plain);
  EXPECT_EQ(c->value, "x");
  EXPECT_TRUE(root->get("a")->plain);
  const Node* d = root->get("b")->get("d");
  ASSERT_EQ(d->items.size(), 2u);
  EXPECT_EQ(p.loc(d->items[1]->range.Start), "f.yaml:4:10");
  EXPECT_EQ(d->items[1]->range.End.getPointer() -
                d->items[1]->range.Start.getPointer(),
            3);
}

TEST(YamlReader, DuplicateKeysAreErrors) {
  Parsed p("a: 1\nb: 2\na: 3\n");
  ASSERT_EQ(p.diags.diags.size(), 1u);
  EXPECT_EQ(p.diags.diags[0].kind, ir::DiagKind::DuplicateKey);
  EXPECT_EQ(p.loc(p.diags.diags[0].range.Start), "f.yaml:3:1");
  EXPECT_EQ(p.loc(p.diags.diags[0].notes[0].range.Start), "f.yaml:1:1");
}

TEST(YamlReader, MergeKeys) {
  Parsed p("base: &b {x: 1, y: 2}\nthing:\n  <<: *b\n  y: 3\n");
  ASSERT_TRUE(p.doc);
  const Node* t = p.doc->root()->get("thing");
  EXPECT_EQ(t->get("x")->value, "1");
  EXPECT_EQ(t->get("y")->value, "3");
  EXPECT_EQ(t->get("<<"), nullptr);
}

TEST(YamlReader, AliasBombStops) {
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  char prev = 'a';
  for (char c = 'b'; c <= 'k'; ++c, ++prev)
    bomb += std::string(1, c) + ": &" + c + " [*" + prev + ", *" + prev +
            ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" +
            prev + ", *" + prev + ", *" + prev + ", *" + prev + "]\n";
  Parsed p(bomb);
  EXPECT_FALSE(p.doc);
  ASSERT_FALSE(p.diags.diags.empty());
  EXPECT_EQ(p.diags.diags[0].kind, ir::DiagKind::AliasExpansionTooLarge);
}

TEST(YamlReader, DeepNestingStops) {
  Parsed p(std::string(100000, '[') + std::string(100000, ']'));
  EXPECT_FALSE(p.doc);
  ASSERT_FALSE(p.diags.diags.empty());
}

TEST(YamlReader, BinaryAndEncoding) {
  Parsed nul(llvm::StringRef("a: \0b", 5));
  EXPECT_EQ(nul.diags.diags.at(0).kind, ir::DiagKind::BinaryFile);
  Parsed bad("a: \xff\xfe\n");
  EXPECT_EQ(bad.diags.diags.at(0).kind, ir::DiagKind::InvalidUtf8);
  EXPECT_EQ(bad.loc(bad.diags.diags[0].range.Start), "f.yaml:1:4");
  Parsed ok("a: caf\xc3\xa9\nb: 1\n");
  ASSERT_TRUE(ok.doc);
  EXPECT_EQ(ok.loc(ok.doc->root()->get("b")->range.Start), "f.yaml:2:4");
  Parsed empty("");
  EXPECT_EQ(empty.diags.diags.at(0).kind, ir::DiagKind::EmptyFile);
  Parsed comments("# nothing\n");
  EXPECT_EQ(comments.diags.diags.at(0).kind, ir::DiagKind::EmptyFile);
}

TEST(YamlReader, SyntaxErrorsAreLocated) {
  Parsed p("a: [1, 2\nb: 3\n");
  EXPECT_FALSE(p.doc);
  ASSERT_EQ(p.diags.diags.size(), 1u);
  EXPECT_EQ(p.diags.diags[0].kind, ir::DiagKind::YamlSyntax);
  EXPECT_TRUE(p.diags.diags[0].range.Start.isValid());
}

TEST(YamlReader, ScalarDecoding) {
  std::string out, error;
  const char* at = nullptr;
  ASSERT_TRUE(scalarValue("\"a\\tb\\x41\\u00e9\\\n  c\"", out, at, error));
  EXPECT_EQ(out,
            "a\tbA\xc3\xa9"
            "c");
  ASSERT_TRUE(scalarValue("'it''s\n\n  ok'", out, at, error));
  EXPECT_EQ(out, "it's\nok");
  ASSERT_TRUE(scalarValue("one\n  two", out, at, error));
  EXPECT_EQ(out, "one two");
  llvm::StringRef bad = "\"a\\qb\"";
  EXPECT_FALSE(scalarValue(bad, out, at, error));
  EXPECT_EQ(at, bad.data() + 2);
  EXPECT_FALSE(scalarValue("\"\\x4\"", out, at, error));
}

TEST(YamlReader, WordColonsInFlowCollections) {
  Parsed p("env: {image: python:3.10, u: 'x:y'}\nlist: [a:b, c]\n");
  ASSERT_TRUE(p.doc);
  const Node* env = p.doc->root()->get("env");
  EXPECT_EQ(env->get("image")->value, "python:3.10");
  EXPECT_EQ(p.loc(env->get("image")->range.Start), "f.yaml:1:14");
  EXPECT_EQ(env->get("u")->value, "x:y");
  EXPECT_EQ(p.doc->root()->get("list")->items[0]->value, "a:b");
}

TEST(YamlReader, FlowCollectionsStartAtTheirBracket) {
  Parsed p("a: [ # c [\n  x]\nb: &m {y: 1}\n");
  ASSERT_TRUE(p.doc);
  EXPECT_EQ(p.loc(p.doc->root()->get("a")->range.Start), "f.yaml:1:4");
  EXPECT_EQ(p.loc(p.doc->root()->get("b")->range.Start), "f.yaml:3:4");
}

TEST(YamlReader, EmptyValueWithAnchorBeforeASibling) {
  Parsed p("a: &x\nb: *x\nc: !!str\nd: [1]\n");
  ASSERT_TRUE(p.doc) << p.diags.diags.size();
  const Node* root = p.doc->root();
  ASSERT_EQ(root->entries.size(), 4u);
  EXPECT_TRUE(root->get("a")->isNull());
  EXPECT_EQ(root->get("b"), root->get("a"));
  EXPECT_TRUE(root->get("c")->isScalar());
  EXPECT_EQ(root->get("c")->value, "");
  EXPECT_TRUE(root->get("d")->isSeq());
}

TEST(YamlReader, BlockScalars) {
  Parsed p("a: >-\n  one\n  two\n\n  three\nb: |\n  x\n  y");
  ASSERT_TRUE(p.doc);
  EXPECT_EQ(p.doc->root()->get("a")->value, "one two\nthree");
  EXPECT_EQ(p.loc(p.doc->root()->get("a")->range.Start), "f.yaml:1:4");
  EXPECT_EQ(p.doc->root()->get("b")->value, "x\ny");
}

TEST(YamlReader, AliasBytesAreBounded) {
  std::string text = "s: &s " + std::string(1000, 'x') + "\nt: [";
  for (int i = 0; i < 100; ++i) text += "*s, ";
  text += "]\n";
  Limits limits;
  limits.max_alias_bytes = 50'000;
  Parsed p(text, limits);
  EXPECT_FALSE(p.doc);
  ASSERT_FALSE(p.diags.diags.empty());
  EXPECT_EQ(p.diags.diags[0].kind, ir::DiagKind::AliasBytesTooLarge);
  EXPECT_EQ(p.loc(p.diags.diags[0].range.Start),
            "f.yaml:2:" + std::to_string(5 + 50 * 4));
}

TEST(YamlReader, RunsOfSeparatorsAreRefusedBeforeParsing) {
  Limits limits;
  limits.max_repeated_separators = 10;
  Parsed p("a: [" + std::string(11, ',') + "]\n", limits);
  EXPECT_FALSE(p.doc);
  ASSERT_EQ(p.diags.diags.size(), 1u);
  EXPECT_EQ(p.diags.diags[0].kind, ir::DiagKind::RepeatedSeparator);
  Parsed ok("a: 1 # " + std::string(100, ',') + "\n", limits);
  EXPECT_TRUE(ok.doc);
}

// The byte check takes runs of plain bytes eight at a time: a byte it must
// stop at is found, and located, wherever it falls in such a run.
TEST(YamlReader, ByteCheckFindsEveryByteInALongRun) {
  struct Case {
    char byte;
    ir::DiagKind kind;
  };
  for (Case c : {Case{'\x01', ir::DiagKind::ControlCharacter},
                 Case{'\x7F', ir::DiagKind::ControlCharacter},
                 Case{'\0', ir::DiagKind::BinaryFile},
                 Case{'\xFF', ir::DiagKind::InvalidUtf8}}) {
    for (std::size_t at = 0; at < 20; ++at) {
      std::string text = "key: " + std::string(at, 'a');
      text += c.byte;
      text += std::string(20, 'b') + "\n";
      Parsed p(text);
      EXPECT_FALSE(p.doc) << at;
      ASSERT_EQ(p.diags.diags.size(), 1u) << at;
      EXPECT_EQ(p.diags.diags[0].kind, c.kind) << at;
      EXPECT_EQ(p.loc(p.diags.diags[0].range.Start),
                "f.yaml:1:" + std::to_string(6 + at))
          << at;
    }
  }
  // Commas inside a run count; after a `#` that starts a comment they do not.
  Limits limits;
  limits.max_repeated_separators = 3;
  for (std::size_t at = 0; at < 20; ++at) {
    Parsed commas(
        "key: " + std::string(at, 'a') + ",,,," + std::string(20, 'b') + "\n",
        limits);
    ASSERT_EQ(commas.diags.diags.size(), 1u) << at;
    EXPECT_EQ(commas.diags.diags[0].kind, ir::DiagKind::RepeatedSeparator);
    EXPECT_EQ(commas.loc(commas.diags.diags[0].range.Start),
              "f.yaml:1:" + std::to_string(9 + at));
    Parsed comment(
        "key: " + std::string(at, 'a') + " #" + std::string(20, 'c') + ",,,,\n",
        limits);
    EXPECT_TRUE(comment.doc) << at;
    EXPECT_TRUE(comment.diags.diags.empty()) << at;
  }
}

// Values that are the text as written point into the file; folded and
// unescaped ones are the document's own copies.
TEST(YamlReader, ValuesPointIntoTheFileWhenUnchanged) {
  Parsed p(
      "plain: text here\nsq: 'it''s'\ndq: \"a\\tb\"\nq: \"as is\"\n"
      "folded: one\n  two\n");
  ASSERT_TRUE(p.doc);
  const char* begin = p.sm.getMemoryBuffer(1)->getBufferStart();
  const char* end = p.sm.getMemoryBuffer(1)->getBufferEnd();
  auto inFile = [&](llvm::StringRef v) {
    return v.data() >= begin && v.data() + v.size() <= end;
  };
  const Node* root = p.doc->root();
  EXPECT_EQ(root->get("plain")->value, "text here");
  EXPECT_TRUE(inFile(root->get("plain")->value));
  EXPECT_EQ(root->get("q")->value, "as is");
  EXPECT_TRUE(inFile(root->get("q")->value));
  EXPECT_EQ(root->get("sq")->value, "it's");
  EXPECT_FALSE(inFile(root->get("sq")->value));
  EXPECT_EQ(root->get("dq")->value, "a\tb");
  EXPECT_FALSE(inFile(root->get("dq")->value));
  EXPECT_EQ(root->get("folded")->value, "one two");
  EXPECT_FALSE(inFile(root->get("folded")->value));
}

}  // namespace
}  // namespace pipec::ir::yaml
