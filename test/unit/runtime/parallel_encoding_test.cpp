// Table encodings: names, byte order marks, UTF-8 transcoding, and rows found
// by code unit with every line ending.
#include "runtime/parallel/encoding.h"

#include <vector>

#include "runtime/parallel/table.h"
#include "test/unit/runtime/parallel_test_util.h"

namespace pipec::runtime::parallel {
namespace {

using K = TextEncoding::Kind;

TEST(ParallelEncoding, EveryMLTableNameIsKnown) {
  for (const char* n :
       {"utf8", "utf8bom", "iso88591", "latin1", "ascii", "utf16", "utf32",
        "windows1252", "UTF-8", "utf_16", "Latin-1", "cp1252"})
    EXPECT_TRUE(parseEncoding(n).has_value()) << n;
  EXPECT_FALSE(parseEncoding("ebcdic").has_value());
  EXPECT_FALSE(parseEncoding("").has_value());
  EXPECT_EQ(parseEncoding("iso88591")->pythonCodec(), "latin-1");
  EXPECT_EQ(parseEncoding("windows1252")->pythonCodec(), "cp1252");
  EXPECT_EQ(parseEncoding("utf16")->pythonCodec(), "utf-16-le");
  EXPECT_EQ(parseEncoding("utf8bom")->kind, K::Utf8);
}

TEST(ParallelEncoding, ByteOrderMarks) {
  using llvm::StringRef;
  ByteOrderMark m = detectByteOrderMark(StringRef("\xFF\xFE\0\0x\0\0\0", 8));
  EXPECT_EQ(m.length, 4u);
  EXPECT_EQ(m.encoding.kind, K::Utf32);
  EXPECT_FALSE(m.encoding.big_endian);
  m = detectByteOrderMark(StringRef("\xFF\xFEx\0", 4));
  EXPECT_EQ(m.length, 2u);
  EXPECT_EQ(m.encoding.kind, K::Utf16);
  m = detectByteOrderMark(StringRef("\xFE\xFF\0x", 4));
  EXPECT_TRUE(m.encoding.big_endian);
  EXPECT_EQ(m.encoding.pythonCodec(), "utf-16-be");
  m = detectByteOrderMark("\xEF\xBB\xBFid");
  EXPECT_EQ(m.length, 3u);
  EXPECT_EQ(m.encoding.kind, K::Utf8);
  EXPECT_EQ(detectByteOrderMark("id,x").length, 0u);
  EXPECT_EQ(detectByteOrderMark("").length, 0u);
}

TEST(ParallelEncoding, Transcoding) {
  using llvm::StringRef;
  std::string out;
  // U+010A, U+1F600 (a surrogate pair), "a".
  TextEncoding le{K::Utf16, false};
  EXPECT_TRUE(appendUtf8(StringRef("\x0A\x01\x3D\xD8\x00\xDE"
                                   "a\0",
                                   8),
                         le, out));
  EXPECT_EQ(out,
            "\xC4\x8A\xF0\x9F\x98\x80"
            "a");
  out.clear();
  TextEncoding be32{K::Utf32, true};
  EXPECT_TRUE(appendUtf8(StringRef("\0\0\x20\xAC", 4), be32, out));
  EXPECT_EQ(out, "\xE2\x82\xAC");
  out.clear();
  EXPECT_TRUE(appendUtf8("\x80\xE9", TextEncoding{K::Windows1252}, out));
  EXPECT_EQ(out, "\xE2\x82\xAC\xC3\xA9");
  out.clear();
  EXPECT_TRUE(appendUtf8("\xE9", TextEncoding{K::Latin1}, out));
  EXPECT_EQ(out, "\xC3\xA9");
  std::size_t bad = 0;
  EXPECT_FALSE(appendUtf8("ab\xE9", TextEncoding{K::Ascii}, out, &bad));
  EXPECT_EQ(bad, 2u);
  EXPECT_FALSE(appendUtf8("\x81", TextEncoding{K::Windows1252}, out, &bad));
  EXPECT_FALSE(appendUtf8(StringRef("\x00\xDC", 2), le, out, &bad));  // lone
  EXPECT_FALSE(appendUtf8(StringRef("a\0b", 3), le, out, &bad));      // cut
  EXPECT_EQ(bad, 2u);
}

// Rows of `bytes` (a file) scanned with `f`.
std::vector<std::string> rowsOf(const TempDir& t, const std::string& bytes,
                                const RowFormat& f,
                                std::vector<bool>* blank = nullptr) {
  std::string path = t.write("rows.txt", bytes);
  RowScanner s;
  EXPECT_TRUE(s.open(path, f));
  std::vector<std::string> rows;
  Row r;
  while (s.next(r)) {
    rows.push_back(r.bytes.str());
    if (blank) blank->push_back(r.blank);
  }
  EXPECT_EQ(s.error(), "");
  return rows;
}

TEST(ParallelEncoding, EveryLineEnding) {
  TempDir t;
  RowFormat f;
  std::vector<bool> blank;
  std::vector<std::string> rows =
      rowsOf(t, "a\rb\r\nc\n\r\n\"q\rq\"\r \t\rlast", f, &blank);
  ASSERT_EQ(rows.size(), 7u);
  EXPECT_EQ(rows[0], "a\r");
  EXPECT_EQ(rows[1], "b\r\n");
  EXPECT_EQ(rows[2], "c\n");
  EXPECT_EQ(rows[3], "\r\n");
  EXPECT_TRUE(blank[3]);
  EXPECT_EQ(rows[4], "\"q\rq\"\r");
  EXPECT_TRUE(blank[5]);
  EXPECT_EQ(rows[6], "last");
  // JSON Lines: no quotes, the same endings.
  f.quotes = false;
  rows = rowsOf(t, "{}\r{}\r\n{}\n{}", f);
  EXPECT_EQ(rows, (std::vector<std::string>{"{}\r", "{}\r\n", "{}\n", "{}"}));
}

TEST(ParallelEncoding, CrAtTheEndOfABufferWaitsForTheNextByte) {
  TempDir t;
  // The first refill reads 1 MB: put a CRLF across its end.
  std::string first(1u << 20, 'x');
  first.back() = '\r';
  std::vector<std::string> rows = rowsOf(t, first + "\nnext\r", RowFormat());
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].size(), (1u << 20) + 1);
  EXPECT_EQ(rows[1], "next\r");
}

TEST(ParallelEncoding, Utf16RowsEndOnCodeUnits) {
  TempDir t;
  // "\u0A0D,\u0D0A\r\n" then "b\r": bytes 0x0A and 0x0D inside characters
  // are not line endings.
  std::string le(
      "\xFF\xFE"
      "\x0D\x0A"
      ",\0"
      "\x0A\x0D"
      "\r\0\n\0"
      "b\0\r\0",
      16);
  RowFormat f;
  f.encoding = {K::Utf16, false};
  f.start = 2;
  std::vector<std::string> rows = rowsOf(t, le, f);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].size(), 10u);
  EXPECT_EQ(rows[1], std::string("b\0\r\0", 4));
  // Big-endian UTF-32, a quoted line break.
  std::string be("\0\0\0\"\0\0\0\n\0\0\0\"\0\0\0\n\0\0\0x", 20);
  f.encoding = {K::Utf32, true};
  f.start = 0;
  rows = rowsOf(t, be, f);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].size(), 16u);
}

TEST(ParallelEncoding, AFileCutInsideACharacterIsAnError) {
  TempDir t;
  std::string path = t.write("odd.csv", std::string("a\0\n\0b", 5));
  RowFormat f;
  f.encoding = {K::Utf16, false};
  RowScanner s;
  ASSERT_TRUE(s.open(path, f));
  Row r;
  EXPECT_TRUE(s.next(r));
  EXPECT_FALSE(s.next(r));
  EXPECT_NE(s.error().find("the file ends inside a character"),
            std::string::npos);
}

}  // namespace
}  // namespace pipec::runtime::parallel
