// Unit tests of the canonical JSON dump helpers.
#include "ir/json_dump.h"

#include <gtest/gtest.h>

namespace pipec::ir {
namespace {

TEST(JsonDump, RelativePaths) {
  EXPECT_EQ(relativePath("/a/b/c", "/a/b"), "c");
  EXPECT_EQ(relativePath("/a/x/c", "/a/b"), "../x/c");
  EXPECT_EQ(relativePath("/a/b", "/a/b"), ".");
  EXPECT_EQ(relativePath("/etc/passwd", "/home/u"), "/etc/passwd");
  EXPECT_EQ(relativePath("https://x/y", "/a"), "https://x/y");
}

TEST(JsonDump, TemplateSource) {
  Template t;
  TemplatePiece a;
  a.text = "python x.py ";
  t.pieces.push_back(a);
  TemplatePiece in;
  in.kind = TemplatePiece::Kind::Input;
  in.text = "data";
  t.pieces.push_back(in);
  TemplatePiece g;
  g.text = " --seed ";
  g.group = 0;
  t.pieces.push_back(g);
  TemplatePiece p;
  p.kind = TemplatePiece::Kind::Param;
  p.text = "seed";
  p.group = 0;
  t.pieces.push_back(p);
  EXPECT_EQ(templateSource(t),
            "python x.py $<<inputs.data>>$[[ --seed $<<parameters.seed>>]]");
}

TEST(JsonDump, DeterministicAndSorted) {
  Module m;
  auto c = std::make_unique<Component>();
  c->name = "b";
  c->version = "1";
  m.add(std::move(c));
  auto d = std::make_unique<Component>();
  d->name = "a";
  d->version = "1";
  m.add(std::move(d));
  std::string once = dumpJson(m);
  EXPECT_EQ(once, dumpJson(m));
  EXPECT_LT(once.find("\"name\": \"a\""), once.find("\"name\": \"b\""));
}

}  // namespace
}  // namespace pipec::ir
