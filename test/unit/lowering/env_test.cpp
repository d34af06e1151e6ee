// Unit tests of quoting, the PAI_* environment and template pieces.
#include "lowering/env.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace pipec::lowering {
namespace {

using namespace ir;

TEST(ShellQuote, QuotesOnlyWhenNeeded) {
  EXPECT_EQ(shellQuote("adam"), "adam");
  EXPECT_EQ(shellQuote("0.001"), "0.001");
  EXPECT_EQ(shellQuote("/ml/input/data/x/"), "/ml/input/data/x/");
  EXPECT_EQ(shellQuote(""), "''");
  EXPECT_EQ(shellQuote("a b"), "'a b'");
  EXPECT_EQ(shellQuote("it's"), "'it'\"'\"'s'");
  EXPECT_EQ(shellQuote("$(rm -rf /)"), "'$(rm -rf /)'");
}

// Every byte value at every offset of safe words of many lengths (around
// the sixteen-byte scan): quoted exactly when kShellSafe says a byte is not
// safe, as shlex.quote does.
TEST(ShellQuote, EveryByteAtEveryOffset) {
  for (std::size_t size : {0, 1, 15, 16, 17, 31, 32, 33, 47}) {
    std::string safe;
    for (std::size_t i = 0; i < size; ++i) safe += "aZ09@%+=:,./-_"[i % 14];
    EXPECT_EQ(shellQuote(safe), safe.empty() ? "''" : safe);
    for (int c = 0; c < 256; ++c)
      for (std::size_t at = 0; at <= size; ++at) {
        std::string s = safe;
        s.insert(at, 1, char(c));
        std::string want = s;
        if (!kShellSafe[static_cast<unsigned char>(c)]) {
          want.clear();
          for (char ch : s)
            want += ch == '\'' ? std::string("'\"'\"'") : std::string(1, ch);
          want = "'" + want + "'";
        }
        ASSERT_EQ(shellQuote(s), want)
            << "byte " << c << " at " << at << " of " << size;
      }
  }
}

struct Fixture {
  Component c;
  Fixture() {
    c.name = "train";
    Port in;
    in.name = "train";
    in.type = Type::Folder;
    c.inputs.push_back(in);
    Port out;
    out.name = "model";
    c.outputs.push_back(out);
    auto param = [&](const char* n, Type t, Value v) {
      Param p;
      p.name = n;
      p.type = t;
      p.default_value = v;
      c.params.push_back(p);
    };
    param("epochs", Type::Int, Value::makeInt(10));
    param("batch-size", Type::Int, Value::makeInt(32));
    param("learning-rate", Type::Float, Value::makeFloat(0.001));
  }
};

TEST(Env, SeedExample) {
  Fixture f;
  StepValues v;
  v.params = resolveParams(f.c, nullptr, {});
  EnvList env = buildPaiEnv(f.c, v);
  std::map<std::string, std::string> m(env.begin(), env.end());
  EXPECT_EQ(m["PAI_HPS_BATCH_SIZE"], "32");
  EXPECT_EQ(m["PAI_USER_ARGS"],
            "--epochs 10 --batch-size 32 --learning-rate 0.001");
  EXPECT_EQ(m["PAI_HPS"],
            R"({"epochs": 10, "batch-size": 32, "learning-rate": 0.001})");
  EXPECT_EQ(m["PAI_INPUT_TRAIN"], "/ml/input/data/train/");
  EXPECT_EQ(m["PAI_OUTPUT_MODEL"], "/ml/output/model/");
  EXPECT_TRUE(std::is_sorted(env.begin(), env.end()));
}

TEST(Env, OverridesAndQuoting) {
  Fixture f;
  StepValues v;
  Param opt;
  opt.name = "note";
  opt.type = Type::String;
  f.c.params.push_back(opt);
  v.params = resolveParams(f.c, nullptr,
                           {{"note", Value::makeString("it's \"a\" test")},
                            {"epochs", Value::makeInt(3)}});
  EXPECT_EQ(userArgs(v),
            "--epochs 3 --batch-size 32 --learning-rate 0.001 --note "
            "'it'\"'\"'s \"a\" test'");
  EXPECT_EQ(
      hpsJson(v),
      R"({"epochs": 3, "batch-size": 32, "learning-rate": 0.001, "note": "it's \"a\" test"})");
}

TEST(Env, OptionalGroupsDropWhenUnset) {
  Fixture f;
  Param opt;
  opt.name = "seed";
  opt.type = Type::Int;
  opt.optional = true;
  f.c.params.push_back(opt);
  Template t;
  auto text = [&](const char* s, int g = -1) {
    TemplatePiece p;
    p.text = s;
    p.group = g;
    t.pieces.push_back(p);
  };
  text("run ");
  TemplatePiece in;
  in.kind = TemplatePiece::Kind::Input;
  in.text = "train";
  t.pieces.push_back(in);
  text(" --seed ", 0);
  TemplatePiece seed;
  seed.kind = TemplatePiece::Kind::Param;
  seed.text = "seed";
  seed.group = 0;
  t.pieces.push_back(seed);
  StepValues v;
  v.params = resolveParams(f.c, nullptr, {});
  LoweredCommand c = lowerCommand(templatePieces(t, v), {});
  EXPECT_EQ(c.shell, "run \"$PAI_INPUT_TRAIN\"");
  EXPECT_EQ(c.argv, (std::vector<std::string>{"run", "/ml/input/data/train/"}));
  v.params = resolveParams(f.c, nullptr, {{"seed", Value::makeInt(7)}});
  c = lowerCommand(templatePieces(t, v), {});
  EXPECT_EQ(c.shell, "run \"$PAI_INPUT_TRAIN\" --seed \"$PAI_HPS_SEED\"");
  EXPECT_EQ(c.argv, (std::vector<std::string>{"run", "/ml/input/data/train/",
                                              "--seed", "7"}));
}

}  // namespace
}  // namespace pipec::lowering
