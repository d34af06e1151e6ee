// Small text helpers of the parallel engine: JSON string escaping that keeps
// any byte string intact, hex, and fast integer formatting.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "llvm/ADT/StringRef.h"

namespace pipec::runtime::parallel {

/// Appends `s` to `out` as a JSON string literal (with quotes). Bytes that are
/// not valid UTF-8 become `\udcXX` escapes, Python's "surrogateescape" form,
/// so `os.fsencode` on the Python side gives the original bytes back.
void appendJsonString(std::string& out, llvm::StringRef s);

/// Appends the decimal text of `v`.
void appendUInt(std::string& out, std::uint64_t v);

/// A 128-bit identity of a mini-batch's items.
struct Hash128 {
  std::array<std::uint8_t, 16> bytes{};
  bool operator==(const Hash128& o) const { return bytes == o.bytes; }
  bool operator!=(const Hash128& o) const { return bytes != o.bytes; }
  /// 32 lowercase hex digits.
  std::string hex() const;
  /// Parses 32 hex digits; false when `text` is not that.
  static bool parse(llvm::StringRef text, Hash128& out);
};

struct Hash128Hasher {
  std::size_t operator()(const Hash128& h) const {
    std::size_t v;
    static_assert(sizeof(v) <= sizeof(h.bytes));
    __builtin_memcpy(&v, h.bytes.data(), sizeof(v));
    return v;
  }
};

}  // namespace pipec::runtime::parallel
