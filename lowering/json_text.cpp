// JSON string escaping, and JsonWriter: the layout of llvm::json::OStream.
#include "lowering/json_text.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

#include "llvm/Support/JSON.h"

namespace pipec::lowering {

namespace {

const char kHex[] = "0123456789abcdef";

// Bytes that stand for themselves in a JSON string: ASCII but controls,
// '"' and '\\'.
constexpr std::array<bool, 256> kBare = [] {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x80; ++c) t[c] = c != '"' && c != '\\';
  return t;
}();

// Length of the valid UTF-8 sequence at `s[i]`, or 0 when it is not one.
std::size_t utf8Length(llvm::StringRef s, std::size_t i) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  std::size_t n;
  unsigned min;
  unsigned cp;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2, min = 0x80, cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3, min = 0x800, cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4, min = 0x10000, cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

}  // namespace

void JsonWriter::beginObject() {
  if (out_.empty()) out_.reserve(1024);
  out_ += '{';
  empty_.push_back(true);
}

void JsonWriter::endObject() {
  bool empty = empty_.pop_back_val();
  if (!empty) newline();
  out_ += '}';
}

void JsonWriter::key(llvm::StringRef k) {
  if (!empty_.back()) out_ += ',';
  empty_.back() = false;
  newline();
  quote(k);
  out_ += ": ";
}

void JsonWriter::value(llvm::StringRef s) { quote(s); }

void JsonWriter::value(std::int64_t n) { out_ += std::to_string(n); }

void JsonWriter::newline() {
  out_ += '\n';
  out_.append(2 * empty_.size(), ' ');
}

void JsonWriter::quote(llvm::StringRef s) { appendJsonValue(out_, s); }

namespace {

/// The first byte in [p, end) that does not stand for itself in a JSON
/// string (a control character, '"', '\\' or a byte from 0x80), or `end`:
/// eight bytes at a time, without a branch per byte.
const char* firstSpecial(const char* p, const char* end) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ull;
  constexpr std::uint64_t kHigh = 0x8080808080808080ull;
  auto zeroByte = [](std::uint64_t v) { return (v - kOnes) & ~v & kHigh; };
  for (; end - p >= 8; p += 8) {
    std::uint64_t x;
    std::memcpy(&x, p, 8);
    // A byte below 0x20 borrows in x - 0x20 and had its high bit clear. A
    // borrow only marks bytes above (after) a marked one, so the lowest
    // mark is the first special byte.
    std::uint64_t m = (x & kHigh) | ((x - 0x20 * kOnes) & ~x & kHigh) |
                      zeroByte(x ^ ('"' * kOnes)) |
                      zeroByte(x ^ ('\\' * kOnes));
    if (m) return p + (__builtin_ctzll(m) >> 3);
  }
  while (p != end && kBare[static_cast<unsigned char>(*p)]) ++p;
  return p;
}

/// Whether no byte in [p, e) is from 0x80: eight bytes at a time.
bool allAscii(const char* p, const char* e) {
  std::uint64_t high = 0;
  for (; e - p >= 8; p += 8) {
    std::uint64_t x;
    std::memcpy(&x, p, 8);
    high |= x;
  }
  for (; p != e; ++p) high |= static_cast<unsigned char>(*p);
  return (high & 0x8080808080808080ull) == 0;
}

/// `s` between quotes, as it is.
void appendBare(std::string& out, llvm::StringRef s) {
  std::size_t at = out.size();
  out.resize(at + s.size() + 2);
  char* o = out.data() + at;
  *o = '"';
  std::memcpy(o + 1, s.data(), s.size());
  o[s.size() + 1] = '"';
}

}  // namespace

namespace {

/// appendJsonString() of `s`, whose first byte to escape is at `i`.
void appendJsonStringFrom(std::string& out, llvm::StringRef s, std::size_t i);

}  // namespace

void appendJsonValue(std::string& out, llvm::StringRef s) {
  const char* first = firstSpecial(s.begin(), s.end());
  if (first == s.end()) return appendBare(out, s);  // the common case
  // llvm::json replaces bytes that are not UTF-8 with U+FFFD; what is left
  // escapes as appendJsonString escapes it.
  bool ascii = allAscii(first, s.end());
  if (!ascii && !llvm::json::isUTF8(s)) {
    appendJsonString(out, llvm::json::fixUTF8(s));
    return;
  }
  appendJsonStringFrom(out, s, std::size_t(first - s.begin()));
}

void appendJsonString(std::string& out, llvm::StringRef s) {
  const char* first = firstSpecial(s.begin(), s.end());
  if (first == s.end()) return appendBare(out, s);
  appendJsonStringFrom(out, s, std::size_t(first - s.begin()));
}

namespace {

void appendJsonStringFrom(std::string& out, llvm::StringRef s, std::size_t i) {
  out.reserve(out.size() + s.size() + 8);
  out.push_back('"');
  out.append(s.data(), i);
  // s[i] is a byte to escape (or the end): escaped, then the run up to the
  // next one copied in one go.
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      if (std::size_t n = utf8Length(s, i)) {
        out.append(s.data() + i, n);
        i += n;
      } else {
        out.append("\\udc");
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
        ++i;
      }
    } else {
      // '"', '\\' and three controls have a letter; the rest \u00XX.
      char letter = c == '"'    ? '"'
                    : c == '\\' ? '\\'
                    : c == '\n' ? 'n'
                    : c == '\t' ? 't'
                    : c == '\r' ? 'r'
                                : 0;
      if (letter) {
        out.push_back('\\');
        out.push_back(letter);
      } else {
        out.append("\\u00");
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
      }
      ++i;
    }
    std::size_t j = std::size_t(firstSpecial(s.data() + i, s.end()) - s.data());
    out.append(s.data() + i, j - i);
    i = j;
  }
  out.push_back('"');
}

}  // namespace

}  // namespace pipec::lowering
