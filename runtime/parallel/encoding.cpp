// Text encodings of table files: names, byte order marks, transcoding.
#include "runtime/parallel/encoding.h"

#include <algorithm>

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/ConvertUTF.h"

namespace pipec::runtime::parallel {

const char kSupportedEncodings[] =
    "utf8, utf8bom, iso88591, latin1, ascii, utf16, utf32, windows1252";

namespace {

// Windows-1252's 0x80-0x9F; 0 where it defines no character.
constexpr std::uint16_t kCp1252High[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0,      0x017D, 0,
    0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

void appendCodePoint(std::string& out, std::uint32_t cp) {
  char buf[UNI_MAX_UTF8_BYTES_PER_CODE_POINT];
  char* end = buf;
  llvm::ConvertCodePointToUTF8(cp, end);
  out.append(buf, end);
}

}  // namespace

std::string TextEncoding::pythonCodec() const {
  switch (kind) {
    case Kind::Utf8:
      return "utf-8";
    case Kind::Ascii:
      return "ascii";
    case Kind::Latin1:
      return "latin-1";
    case Kind::Windows1252:
      return "cp1252";
    case Kind::Utf16:
      return big_endian ? "utf-16-be" : "utf-16-le";
    case Kind::Utf32:
      return big_endian ? "utf-32-be" : "utf-32-le";
  }
  return "utf-8";
}

const char* TextEncoding::name() const {
  switch (kind) {
    case Kind::Utf8:
      return "utf8";
    case Kind::Ascii:
      return "ascii";
    case Kind::Latin1:
      return "latin1";
    case Kind::Windows1252:
      return "windows1252";
    case Kind::Utf16:
      return "utf16";
    case Kind::Utf32:
      return "utf32";
  }
  return "utf8";
}

std::uint32_t TextEncoding::unitAt(const char* p) const {
  auto b = [p](int i) { return std::uint32_t(std::uint8_t(p[i])); };
  switch (unit()) {
    case 2:
      return big_endian ? (b(0) << 8) | b(1) : b(0) | (b(1) << 8);
    case 4:
      return big_endian ? (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3)
                        : b(0) | (b(1) << 8) | (b(2) << 16) | (b(3) << 24);
    default:
      return b(0);
  }
}

std::optional<TextEncoding> parseEncoding(llvm::StringRef name) {
  std::string s = name.trim().lower();
  s.erase(std::remove_if(s.begin(), s.end(),
                         [](char c) { return c == '-' || c == '_'; }),
          s.end());
  using K = TextEncoding::Kind;
  TextEncoding e;
  if (s == "utf8" || s == "utf8bom")
    e.kind = K::Utf8;
  else if (s == "ascii")
    e.kind = K::Ascii;
  else if (s == "iso88591" || s == "latin1")
    e.kind = K::Latin1;
  else if (s == "windows1252" || s == "cp1252")
    e.kind = K::Windows1252;
  else if (s == "utf16")
    e.kind = K::Utf16;
  else if (s == "utf32")
    e.kind = K::Utf32;
  else
    return std::nullopt;
  return e;
}

ByteOrderMark detectByteOrderMark(llvm::StringRef head) {
  using K = TextEncoding::Kind;
  ByteOrderMark m;
  // UTF-32LE's mark starts like UTF-16LE's: test it first.
  if (head.startswith(llvm::StringRef("\xFF\xFE\0\0", 4)))
    m = {4, {K::Utf32, false}};
  else if (head.startswith(llvm::StringRef("\0\0\xFE\xFF", 4)))
    m = {4, {K::Utf32, true}};
  else if (head.startswith("\xEF\xBB\xBF"))
    m = {3, {K::Utf8, false}};
  else if (head.startswith("\xFF\xFE"))
    m = {2, {K::Utf16, false}};
  else if (head.startswith("\xFE\xFF"))
    m = {2, {K::Utf16, true}};
  return m;
}

bool appendUtf8(llvm::StringRef bytes, const TextEncoding& enc,
                std::string& out, std::size_t* bad_at) {
  using K = TextEncoding::Kind;
  auto bad = [&](std::size_t at) {
    if (bad_at) *bad_at = at;
    return false;
  };
  const char* p = bytes.data();
  std::size_t n = bytes.size();
  switch (enc.kind) {
    case K::Utf8:
      out.append(p, n);
      return true;
    case K::Ascii:
      for (std::size_t i = 0; i < n; ++i)
        if (std::uint8_t(p[i]) > 0x7F) return bad(i);
      out.append(p, n);
      return true;
    case K::Latin1:
    case K::Windows1252:
      for (std::size_t i = 0; i < n; ++i) {
        std::uint32_t c = std::uint8_t(p[i]);
        if (enc.kind == K::Windows1252 && c >= 0x80 && c < 0xA0) {
          c = kCp1252High[c - 0x80];
          if (!c) return bad(i);
        }
        appendCodePoint(out, c);
      }
      return true;
    case K::Utf16:
      for (std::size_t i = 0; i < n; i += 2) {
        if (i + 2 > n) return bad(i);
        std::uint32_t c = enc.unitAt(p + i);
        if (c >= 0xDC00 && c <= 0xDFFF) return bad(i);
        if (c >= 0xD800 && c <= 0xDBFF) {
          if (i + 4 > n) return bad(i);
          std::uint32_t lo = enc.unitAt(p + i + 2);
          if (lo < 0xDC00 || lo > 0xDFFF) return bad(i);
          c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
          i += 2;
        }
        appendCodePoint(out, c);
      }
      return true;
    case K::Utf32:
      for (std::size_t i = 0; i < n; i += 4) {
        if (i + 4 > n) return bad(i);
        std::uint32_t c = enc.unitAt(p + i);
        if (c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return bad(i);
        appendCodePoint(out, c);
      }
      return true;
  }
  return true;
}

}  // namespace pipec::runtime::parallel
