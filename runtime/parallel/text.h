// Small text helpers of the parallel engine: hex and fast integer
// formatting; JSON string escaping (appendJsonString) is in
// lowering/json_text.h.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "llvm/ADT/StringRef.h"
#include "lowering/json_text.h"

namespace pipec::runtime::parallel {

using lowering::appendJsonString;

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
