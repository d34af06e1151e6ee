// Double-quoted YAML scalars, for every writer of YAML (the k8s manifests,
// the Azure ML files): one escaping, which every YAML reader reads back as
// the same string.
#pragma once

#include <cstdint>
#include <string>

#include "llvm/ADT/StringRef.h"

namespace pipec::ir::yaml {

/// Appends `s` as a YAML double-quoted scalar: `"` and `\` escaped, line
/// ends, tabs and every character a YAML reader rejects raw (C0 and C1
/// controls, DEL, U+00A0, U+FEFF, U+FFFE, U+FFFF and the other
/// noncharacters) as escapes. A byte sequence that is not UTF-8 cannot be
/// carried by YAML: each maximal bad subsequence becomes U+FFFD.
void appendDoubleQuoted(std::string& out, llvm::StringRef s);

/// The most bytes `s` of `size` bytes takes double-quoted: no byte takes
/// more than 4 (a control as `\xNN`; a bad byte as U+FFFD takes 3, an
/// escaped sequence at most 10 for 4), and the quotes.
constexpr std::size_t doubleQuotedBound(std::size_t size) {
  return 4 * size + 2;
}

/// appendDoubleQuoted() at `o`, which has room for doubleQuotedBound()
/// bytes (all of which it may write); returns the end of what it wrote.
char* writeDoubleQuoted(char* o, llvm::StringRef s);

/// Decodes one UTF-8 sequence at `p` (a byte >= 0x80) and advances past it.
/// Returns the code point, or -1 for a bad sequence, past which `p` is
/// advanced by its maximal valid prefix (at least one byte).
std::int32_t decodeUtf8(const char*& p, const char* end);

/// A code point a YAML reader takes raw (YAML 1.2 c-printable, less the
/// noncharacters, which stay escaped so that no reader replaces them).
bool printableRaw(std::uint32_t cp);

}  // namespace pipec::ir::yaml
