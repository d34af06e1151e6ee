// Double-quoted YAML scalars for the writers of YAML (yaml_quote.h).
#include "ir/yaml_quote.h"

#include <array>

namespace pipec::ir::yaml {

namespace {

/// Printable ASCII that stands for itself inside double quotes.
constexpr std::array<bool, 256> kPlainByte = [] {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x7f; ++c) t[c] = c != '"' && c != '\\';
  return t;
}();

constexpr char kHex[] = "0123456789abcdef";

/// `\xNN`, `\uNNNN` or `\UNNNNNNNN`, as yaml-cpp writes escapes.
void appendEscape(std::string& out, std::uint32_t cp) {
  int digits = cp < 0xff ? 2 : cp < 0xffff ? 4 : 8;
  out += '\\';
  out += digits == 2 ? 'x' : digits == 4 ? 'u' : 'U';
  for (int d = digits - 1; d >= 0; --d) out += kHex[(cp >> (4 * d)) & 0xf];
}

}  // namespace

/// Decodes one UTF-8 sequence at `p` (a byte >= 0x80) and advances past it.
/// Returns the code point, or -1 for a bad sequence, past which `p` is
/// advanced by its maximal valid prefix (at least one byte), as Unicode
/// recommends for replacing it with one U+FFFD.
std::int32_t decodeUtf8(const char*& p, const char* end) {
  auto byte = [](const char* q) { return static_cast<unsigned char>(*q); };
  unsigned char c = byte(p++);
  int n;
  std::uint32_t cp;
  unsigned char lo = 0x80, hi = 0xbf;  // range of the second byte
  if (c >= 0xc2 && c <= 0xdf) {
    n = 1;
    cp = c & 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 2;
    cp = c & 0x0f;
    if (c == 0xe0) lo = 0xa0;  // no overlong forms
    if (c == 0xed) hi = 0x9f;  // no surrogates
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 3;
    cp = c & 0x07;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;  // at most U+10FFFF
  } else {
    return -1;
  }
  for (int i = 0; i < n; ++i, lo = 0x80, hi = 0xbf) {
    if (p == end || byte(p) < lo || byte(p) > hi) return -1;
    cp = (cp << 6) | (byte(p++) & 0x3f);
  }
  return static_cast<std::int32_t>(cp);
}

/// A code point a YAML reader takes raw (YAML 1.2 c-printable, less the
/// noncharacters, which stay escaped so that no reader replaces them).
bool printableRaw(std::uint32_t cp) {
  if (cp <= 0xa0) return false;  // C1 controls and U+00A0, as yaml-cpp
  if (cp == 0xfeff) return false;
  if (cp >= 0xfdd0 && cp <= 0xfdef) return false;
  if ((cp & 0xfffe) == 0xfffe) return false;
  return true;
}

void appendDoubleQuoted(std::string& out, llvm::StringRef s) {
  out += '"';
  const char* p = s.begin();
  const char* end = s.end();
  while (p != end) {
    const char* run = p;
    while (p != end && kPlainByte[static_cast<unsigned char>(*p)]) ++p;
    out.append(run, p - run);
    if (p == end) break;
    auto c = static_cast<unsigned char>(*p);
    if (c < 0x80) {
      ++p;
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        default:  // the other C0 controls and DEL
          appendEscape(out, c);
      }
      continue;
    }
    const char* at = p;
    std::int32_t cp = decodeUtf8(p, end);
    if (cp < 0)
      out += "\xef\xbf\xbd";  // U+FFFD
    else if (printableRaw(static_cast<std::uint32_t>(cp)))
      out.append(at, p - at);
    else
      appendEscape(out, static_cast<std::uint32_t>(cp));
  }
  out += '"';
}

}  // namespace pipec::ir::yaml
