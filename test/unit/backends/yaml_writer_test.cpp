// The manifests' YAML writer: the bytes yaml-cpp's emitter wrote before for
// the same calls, and quoting that gives every value back, hostile or not.
#include "backends/k8s/yaml_writer.h"
#include "ir/yaml_quote.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <random>

namespace pipec::backends::k8s {
namespace {

std::string dq(llvm::StringRef s) {
  std::string out;
  ir::yaml::appendDoubleQuoted(out, s);
  return out;
}

/// `{k: value}` as the writer writes it, read back by yaml-cpp.
std::string roundTrip(const std::string& value) {
  std::string text;
  YamlWriter w(text);
  w.map().key("k").str(value).end();
  return YAML::Load(text)["k"].as<std::string>();
}

// Values that break naive quoting: YAML indicators, flow characters,
// quotes, escapes, line ends, shell and template syntax, numbers and words
// YAML 1.1 reads as other types.
const std::vector<std::string>& hostile() {
  static const std::vector<std::string> v{
      "",
      " ",
      "-",
      "- x",
      "? x",
      ": x",
      "a: b",
      "#comment",
      "a #b",
      "&anchor",
      "*alias",
      "!tag",
      "|",
      ">",
      "%YAML",
      "@x",
      "`x`",
      "{a: 1}",
      "[1, 2]",
      "'single'",
      "\"double\"",
      "back\\slash",
      "\\n is not a line end",
      "line\nend",
      "crlf\r\nend",
      "tab\there",
      "trailing space ",
      " leading space",
      "\n",
      "$(rm -rf /)",
      "`id`",
      "; echo pwned",
      "{{workflow.name}}",
      "{{inputs.parameters.name}}",
      "${{inputs.x}}",
      "--flag=-1",
      "on",
      "yes",
      "no",
      "~",
      "null",
      "true",
      "0755",
      "0x1f",
      "1e3",
      ".inf",
      "---",
      "...",
      std::string("nul\0byte", 8),
      "bell\a",
      "esc\x1b[0m",
      "bs\bff\fvt\v",
      "caf\xc3\xa9",
      "nbsp\xc2\xa0",
      "nel\xc2\x85",
      "c1\xc2\x9b",
      "bom\xef\xbb\xbf",
      "line sep\xe2\x80\xa8",
      "han \xe4\xb8\xad",
      "emoji \xf0\x9f\x98\x80",
      "max \xf4\x8f\xbf\xbd",
  };
  return v;
}

TEST(YamlWriter, HostileValuesComeBackIntact) {
  for (const std::string& v : hostile()) EXPECT_EQ(roundTrip(v), v) << dq(v);
}

TEST(YamlWriter, QuotesAsYamlCppForValidText) {
  for (const std::string& v : hostile()) {
    YAML::Emitter e;
    e << YAML::DoubleQuoted << v;
    EXPECT_EQ(dq(v), e.c_str()) << v;
  }
}

TEST(YamlWriter, EscapesWhatReadersRejectRaw) {
  EXPECT_EQ(dq("a\x7f"), "\"a\\x7f\"");  // DEL: yaml-cpp wrote it raw
  EXPECT_EQ(dq("\x01"), "\"\\x01\"");
  EXPECT_EQ(dq("\xc2\x80"), "\"\\x80\"");
  EXPECT_EQ(dq("\xef\xbb\xbf"), "\"\\ufeff\"");
  // Noncharacters stay themselves, escaped (yaml-cpp made them U+FFFD).
  EXPECT_EQ(dq("\xef\xbf\xbe"), "\"\\ufffe\"");
  EXPECT_EQ(dq("\xef\xbf\xbf"), "\"\\U0000ffff\"");
  EXPECT_EQ(dq("\xef\xb7\x90"), "\"\\ufdd0\"");
  EXPECT_EQ(dq("\xf4\x8f\xbf\xbf"), "\"\\U0010ffff\"");
  for (const char* v : {"a\x7f", "\xef\xbf\xbe", "\xef\xb7\x90"})
    EXPECT_EQ(roundTrip(v), v);
}

TEST(YamlWriter, BadUtf8BecomesReplacementCharacters) {
  const std::string r = "\xef\xbf\xbd";
  EXPECT_EQ(dq("a\xff"), "\"a" + r + "\"");
  // A cut sequence is one replacement; the byte after it is kept.
  EXPECT_EQ(dq("\xe4\xb8\""), "\"" + r + "\\\"\"");
  // Overlong forms and surrogates are not decoded (an overlong '/' or '"'
  // stays a replacement, never the character).
  EXPECT_EQ(dq("\xc0\xaf"), "\"" + r + r + "\"");
  EXPECT_EQ(dq("\xe0\x80\xa2"), "\"" + r + r + r + "\"");
  EXPECT_EQ(dq("\xed\xa0\x80"), "\"" + r + r + r + "\"");
  EXPECT_EQ(dq("\xf4\x90\x80\x80"), "\"" + r + r + r + r + "\"");
}

TEST(YamlWriter, QuotesAlikeAtEveryPlaceInALongValue) {
  // Long values are escaped sixteen and eight bytes at a time: each
  // hostile value (and bad UTF-8) at every offset of plain text, and
  // several in one chunk, is escaped as it is alone.
  auto inner = [](llvm::StringRef v) {
    std::string q = dq(v);
    return q.substr(1, q.size() - 2);
  };
  std::vector<std::string> values = hostile();
  for (const char* v : {"a\xff", "\xe4\xb8\"", "\xc0\xaf", "\xe0\x80\xa2",
                        "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xef\xbf\xbe",
                        "\x7f\x01\"\\\n\t\"\"", "\xc2\x80\xc2\xa0"})
    values.push_back(v);
  for (const std::string& v : values)
    for (std::size_t lead = 0; lead < 40; ++lead)
      for (std::size_t tail : {0, 1, 7, 8, 15, 16, 31, 33}) {
        std::string a(lead, 'x'), b(tail, 'y');
        EXPECT_EQ(dq(a + v + b + v), "\"" + a + inner(v) + b + inner(v) + "\"")
            << dq(v) << " at " << lead << ", " << tail;
      }
}

TEST(YamlWriter, KeysArePlainAsYamlCppWritesThem) {
  for (const char* k :
       {"apiVersion", "app.kubernetes.io/managed-by", "nvidia.com/gpu",
        "PAI_HPS_LR", "hyperparameters.json", "f1-0a1b2c3d", "-a", "a-", "..",
        "_", "1", "0755", "true", "-", "null", "Null", "NULL", ""}) {
    std::string ours;
    YamlWriter w(ours);
    w.map().key(k).str("v").end();
    YAML::Emitter e;
    e << YAML::BeginMap << YAML::Key << k << YAML::Value << YAML::DoubleQuoted
      << "v" << YAML::EndMap;
    EXPECT_EQ(ours, e.c_str()) << k;
  }
  // Keys outside that set are double-quoted, and still read back.
  std::string text;
  YamlWriter w(text);
  w.map().key("a: b").str("1").key("#x").str("2").end();
  EXPECT_EQ(text, "\"a: b\": \"1\"\n\"#x\": \"2\"");
  YAML::Node n = YAML::Load(text);
  EXPECT_EQ(n["a: b"].as<std::string>(), "1");
  EXPECT_EQ(n["#x"].as<std::string>(), "2");
}

TEST(YamlWriter, LiteralBlocks) {
  std::string text;
  YamlWriter w(text);
  w.map().key("a").seq().map().key("manifest").literal("x: 1\ny:\n  - z");
  w.key("after").integer(1).end().endSeq().end();
  EXPECT_EQ(text,
            "a:\n  - manifest: |\n      x: 1\n      y:\n        - z\n"
            "    after: 1");
  EXPECT_EQ(YAML::Load(text)["a"][0]["manifest"].as<std::string>(),
            "x: 1\ny:\n  - z\n");
  // Text a literal block would not keep is written double-quoted.
  for (const char* v :
       {"", " lead", "a\n\nb", "a\n", "a\r\nb", "tab\tx", "\xc2\x85"}) {
    std::string t;
    YamlWriter l(t);
    l.map().key("m").literal(v).end();
    EXPECT_EQ(YAML::Load(t)["m"].as<std::string>(), v) << t;
  }
}

/// The calls of one random document, made on both writers.
class Both {
 public:
  Both() { e_.SetIndent(2); }
  YamlWriter& ours() { return w_; }
  YAML::Emitter& theirs() { return e_; }
  std::string oursText() const { return text_; }

 private:
  std::string text_;
  YamlWriter w_{text_};
  YAML::Emitter e_;
};

std::string randomValue(std::mt19937& rng) {
  const auto& pool = hostile();
  std::string v;
  int n = std::uniform_int_distribution<int>(0, 3)(rng);
  for (int i = 0; i < n; ++i)
    v += pool[std::uniform_int_distribution<std::size_t>(0,
                                                         pool.size() - 1)(rng)];
  return v;
}

std::string randomKey(std::mt19937& rng) {
  static const std::vector<std::string> keys{
      "name",  "image", "apiVersion", "app.kubernetes.io/name",
      "PAI_X", "x",     "a-b",        "c_d.e"};
  return keys[std::uniform_int_distribution<std::size_t>(0,
                                                         keys.size() - 1)(rng)];
}

void randomNode(Both& b, std::mt19937& rng, int depth);

void randomMap(Both& b, std::mt19937& rng, int depth) {
  b.ours().map();
  b.theirs() << YAML::BeginMap;
  int n = std::uniform_int_distribution<int>(0, 3)(rng);
  for (int i = 0; i < n; ++i) {
    std::string k = randomKey(rng);
    b.ours().key(k);
    b.theirs() << YAML::Key << k << YAML::Value;
    if (std::uniform_int_distribution<int>(0, 9)(rng) == 0) {
      std::string lit = "x: \"1\"\ny:\n  - \"2\"";
      b.ours().literal(lit);
      b.theirs() << YAML::Literal << lit;
    } else {
      randomNode(b, rng, depth + 1);
    }
  }
  b.ours().end();
  b.theirs() << YAML::EndMap;
}

void randomNode(Both& b, std::mt19937& rng, int depth) {
  int kind = std::uniform_int_distribution<int>(0, depth > 4 ? 2 : 4)(rng);
  switch (kind) {
    case 0: {
      std::string v = randomValue(rng);
      b.ours().str(v);
      b.theirs() << YAML::DoubleQuoted << v;
      break;
    }
    case 1: {
      std::int64_t v =
          std::uniform_int_distribution<std::int64_t>(-1000000, 1000000)(rng);
      b.ours().integer(v);
      b.theirs() << v;
      break;
    }
    case 2: {
      bool v = std::uniform_int_distribution<int>(0, 1)(rng);
      b.ours().boolean(v);
      b.theirs() << v;
      break;
    }
    case 3:
      randomMap(b, rng, depth);
      break;
    default: {
      b.ours().seq();
      b.theirs() << YAML::BeginSeq;
      int n = std::uniform_int_distribution<int>(0, 3)(rng);
      for (int i = 0; i < n; ++i) randomNode(b, rng, depth + 1);
      b.ours().endSeq();
      b.theirs() << YAML::EndSeq;
    }
  }
}

TEST(YamlWriter, DocumentsAreTheBytesOfYamlCpp) {
  std::mt19937 rng(20261207);
  for (int round = 0; round < 3000; ++round) {
    Both b;
    if (round % 2)
      randomMap(b, rng, 0);
    else
      randomNode(b, rng, 0);
    ASSERT_EQ(b.oursText(), b.theirs().c_str()) << "round " << round;
  }
}

TEST(YamlWriter, WritesDocumentsOneAfterAnother) {
  std::string text;
  YamlWriter w(text);
  w.document();
  w.map().key("a").map().end().key("b").seq().endSeq().end();
  text += "\n---\n";
  w.document();
  w.map().key("c").str("d").end();
  EXPECT_EQ(text, "a:\n  {}\nb:\n  []\n---\nc: \"d\"");
}

}  // namespace
}  // namespace pipec::backends::k8s
