// Double-quoted YAML scalars for the writers of YAML (yaml_quote.h).
#include "ir/yaml_quote.h"

#include <array>
#include <cstring>

#include <emmintrin.h>

namespace pipec::ir::yaml {

namespace {

constexpr char kHex[] = "0123456789abcdef";

/// What an ASCII byte becomes inside double quotes: 0 itself, the letter
/// of its escape after `\`, 2 a `\xNN` escape; 1 for the bytes from 0x80
/// (UTF-8 sequences).
constexpr std::array<char, 256> kAscii = [] {
  std::array<char, 256> t{};
  for (int c = 0; c < 256; ++c)
    t[c] = c >= 0x80 ? 1 : (c < 0x20 || c == 0x7f) ? 2 : 0;
  t['"'] = '"';
  t['\\'] = '\\';
  t['\n'] = 'n';
  t['\t'] = 't';
  t['\r'] = 'r';
  t['\b'] = 'b';
  t['\f'] = 'f';
  return t;
}();

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

namespace {

/// The bytes of `x` that need more than themselves inside double quotes
/// (below 0x20, 0x7f and above, `"` or `\\`), as their high bits. Bytes
/// after the first such byte may be marked wrongly (a borrow), the first
/// never: only the lowest mark is to be read.
std::uint64_t specialMask(std::uint64_t x) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ull;
  constexpr std::uint64_t kHigh = 0x8080808080808080ull;
  auto zeroByte = [](std::uint64_t v) { return (v - kOnes) & ~v & kHigh; };
  return (x & kHigh) | ((x - 0x20 * kOnes) & ~x & kHigh) |
         zeroByte(x ^ (0x7f * kOnes)) | zeroByte(x ^ ('"' * kOnes)) |
         zeroByte(x ^ ('\\' * kOnes));
}

/// appendEscape() at `o`; returns the end.
char* writeEscape(char* o, std::uint32_t cp) {
  int digits = cp < 0xff ? 2 : cp < 0xffff ? 4 : 8;
  *o++ = '\\';
  *o++ = digits == 2 ? 'x' : digits == 4 ? 'u' : 'U';
  for (int d = digits - 1; d >= 0; --d) *o++ = kHex[(cp >> (4 * d)) & 0xf];
  return o;
}

/// The UTF-8 sequence at `p` (a byte >= 0x80) at `o`: itself when a
/// reader takes it raw, escaped when not, U+FFFD when it is bad; advances
/// `p` past it and returns the end of what it wrote.
char* writeSequence(char* o, const char*& p, const char* end) {
  const char* from = p;
  std::int32_t cp = decodeUtf8(p, end);
  if (cp < 0) {
    std::memcpy(o, "\xef\xbf\xbd", 3);  // U+FFFD
    return o + 3;
  }
  if (printableRaw(static_cast<std::uint32_t>(cp))) {
    std::memcpy(o, from, p - from);
    return o + (p - from);
  }
  return writeEscape(o, static_cast<std::uint32_t>(cp));
}

}  // namespace

void appendDoubleQuoted(std::string& out, llvm::StringRef s) {
  // Written into a buffer of the bound and appended: making the room in
  // `out` would fill it with zeros first (four times the value).
  constexpr std::size_t kShort = 128;
  if (s.size() <= kShort) {
    char buf[doubleQuotedBound(kShort)];
    char* o = writeDoubleQuoted(buf, s);
    out.append(buf, o - buf);
    return;
  }
  thread_local std::string scratch;
  if (scratch.size() < doubleQuotedBound(s.size()))
    scratch.resize(doubleQuotedBound(s.size()));
  char* o = writeDoubleQuoted(scratch.data(), s);
  out.append(scratch.data(), o - scratch.data());
}

char* writeDoubleQuoted(char* o, llvm::StringRef s) {
  *o++ = '"';
  const char* p = s.begin();
  const char* end = s.end();
  // Sixteen bytes at a time while 32 are left (so that a copy of 16 from
  // anywhere in the chunk stays inside `s`): copied whole, then each byte
  // that needs escaping escaped and the bytes after it copied again.
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i del = _mm_set1_epi8(0x7f);
  const __m128i space = _mm_set1_epi8(0x20);
  while (end - p >= 32) {
    __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(o), x);
    // Signed: below 0x20, and from 0x80 (negative).
    __m128i special = _mm_or_si128(
        _mm_or_si128(_mm_cmplt_epi8(x, space), _mm_cmpeq_epi8(x, del)),
        _mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, backslash)));
    auto m = static_cast<unsigned>(_mm_movemask_epi8(special));
    if (m == 0) {
      o += 16;
      p += 16;
      continue;
    }
    unsigned done = 0;  // bytes of the chunk written
    for (; m != 0; m &= m - 1) {
      auto i = static_cast<unsigned>(__builtin_ctz(m));
      // The bytes before it (already in place for the first).
      if (done != 0) std::memcpy(o, p + done, 16);
      o += i - done;
      auto c = static_cast<unsigned char>(p[i]);
      char k = kAscii[c];
      if (k == 1) break;  // UTF-8: below
      if (k == 2) {
        o = writeEscape(o, c);
      } else {
        o[0] = '\\';
        o[1] = k;
        o += 2;
      }
      done = i + 1;
    }
    if (m == 0) {  // the rest of the chunk
      std::memcpy(o, p + done, 16);
      o += 16 - done;
      p += 16;
      continue;
    }
    p += __builtin_ctz(m);
    o = writeSequence(o, p, end);
  }
  while (p != end) {
    // Eight bytes at a time: copied whole, then kept up to the first byte
    // that needs escaping (the output has room for them).
    if (end - p >= 8) {
      std::uint64_t x;
      std::memcpy(&x, p, 8);
      std::memcpy(o, p, 8);
      std::uint64_t m = specialMask(x);
      if (m == 0) {
        o += 8;
        p += 8;
        continue;
      }
      // Little-endian: the lowest marked byte is the first.
      std::size_t n = static_cast<std::size_t>(__builtin_ctzll(m)) / 8;
      o += n;
      p += n;
    } else {
      while (p != end && kAscii[static_cast<unsigned char>(*p)] == 0)
        *o++ = *p++;
      if (p == end) break;
    }
    auto c = static_cast<unsigned char>(*p);
    char k = kAscii[c];
    if (k > 2) {  // a short escape
      o[0] = '\\';
      o[1] = k;
      o += 2;
      ++p;
      continue;
    }
    if (k == 2) {  // the other C0 controls and DEL
      o = writeEscape(o, c);
      ++p;
      continue;
    }
    o = writeSequence(o, p, end);
  }
  *o++ = '"';
  return o;
}

}  // namespace pipec::ir::yaml
