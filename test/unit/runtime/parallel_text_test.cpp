// JSON escaping, hashes and numbers of the parallel engine.
#include "gtest/gtest.h"
#include "llvm/Support/JSON.h"
#include "runtime/parallel/text.h"

namespace pipec::runtime::parallel {
namespace {

std::string json(llvm::StringRef s) {
  std::string out;
  appendJsonString(out, s);
  return out;
}

TEST(ParallelText, EscapesWhatJsonNeeds) {
  EXPECT_EQ(json("plain/path.txt"), "\"plain/path.txt\"");
  EXPECT_EQ(json("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(json("tab\tnl\ncr\r"), "\"tab\\tnl\\ncr\\r\"");
  EXPECT_EQ(json(llvm::StringRef("\x01\x1f", 2)), "\"\\u0001\\u001f\"");
}

TEST(ParallelText, KeepsUtf8AndEscapesOtherBytes) {
  EXPECT_EQ(json("caf\xc3\xa9 \xe2\x82\xac"), "\"caf\xc3\xa9 \xe2\x82\xac\"");
  // Invalid UTF-8 becomes Python's surrogateescape form.
  EXPECT_EQ(json("bad\xff\xc3"), "\"bad\\udcff\\udcc3\"");
  // Overlong encodings and surrogates are not valid UTF-8 either.
  EXPECT_EQ(json("\xc0\xaf"), "\"\\udcc0\\udcaf\"");
  EXPECT_EQ(json("\xed\xa0\x80"), "\"\\udced\\udca0\\udc80\"");
  // Whatever goes in is valid JSON.
  for (llvm::StringRef s : {"x\xff", "\xe2\x82", "a\"\\\n\xf0\x9f\x98\x80"}) {
    auto v = llvm::json::parse(json(s));
    EXPECT_TRUE(bool(v)) << s.str();
    if (!v) llvm::consumeError(v.takeError());
  }
}

TEST(ParallelText, UIntAndHashText) {
  std::string s;
  appendUInt(s, 0);
  s.push_back(' ');
  appendUInt(s, 18446744073709551615ull);
  EXPECT_EQ(s, "0 18446744073709551615");
  Hash128 h;
  for (std::size_t i = 0; i < 16; ++i) h.bytes[i] = std::uint8_t(i * 17);
  EXPECT_EQ(h.hex(), "00112233445566778899aabbccddeeff");
  Hash128 back;
  ASSERT_TRUE(Hash128::parse(h.hex(), back));
  EXPECT_EQ(back, h);
  EXPECT_FALSE(Hash128::parse("0011", back));
  EXPECT_FALSE(Hash128::parse("zz112233445566778899aabbccddeeff", back));
}

}  // namespace
}  // namespace pipec::runtime::parallel
