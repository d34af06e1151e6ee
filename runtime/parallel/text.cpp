// Hex and integer formatting for the parallel engine.
#include "runtime/parallel/text.h"

namespace pipec::runtime::parallel {

namespace {

const char kHex[] = "0123456789abcdef";

}  // namespace

void appendUInt(std::string& out, std::uint64_t v) {
  char buf[24];
  char* p = buf + sizeof(buf);
  do {
    *--p = char('0' + v % 10);
    v /= 10;
  } while (v);
  out.append(p, buf + sizeof(buf) - p);
}

std::string Hash128::hex() const {
  std::string s;
  s.reserve(32);
  for (std::uint8_t b : bytes) {
    s.push_back(kHex[b >> 4]);
    s.push_back(kHex[b & 15]);
  }
  return s;
}

bool Hash128::parse(llvm::StringRef text, Hash128& out) {
  if (text.size() != 32) return false;
  for (std::size_t i = 0; i < 16; ++i) {
    unsigned v = 0;
    for (std::size_t k = 0; k < 2; ++k) {
      char c = text[2 * i + k];
      unsigned d;
      if (c >= '0' && c <= '9')
        d = unsigned(c - '0');
      else if (c >= 'a' && c <= 'f')
        d = unsigned(c - 'a' + 10);
      else
        return false;
      v = v * 16 + d;
    }
    out.bytes[i] = std::uint8_t(v);
  }
  return true;
}

}  // namespace pipec::runtime::parallel
