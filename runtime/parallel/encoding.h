// Text encodings of table files (the ones Azure's MLTable reference lists):
// names, byte order marks, code units for the row scanner, and UTF-8
// transcoding for what the engine itself reads (headers, partition keys).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "llvm/ADT/StringRef.h"

namespace pipec::runtime::parallel {

/// How the characters of a table file are stored.
struct TextEncoding {
  enum class Kind : std::uint8_t {
    Utf8,
    Ascii,
    Latin1,
    Windows1252,
    Utf16,
    Utf32
  };
  Kind kind = Kind::Utf8;
  bool big_endian = false;  ///< UTF-16/32: from the byte order mark
  /// Bytes per code unit: 1, 2 or 4. A row never ends inside a unit.
  unsigned unit() const {
    return kind == Kind::Utf16 ? 2 : kind == Kind::Utf32 ? 4 : 1;
  }
  /// Python's codec for bytes of the file after its byte order mark
  /// ("utf-8", "ascii", "latin-1", "cp1252", "utf-16-le", "utf-32-be", ...).
  std::string pythonCodec() const;
  /// The MLTable name ("utf16"), for messages.
  const char* name() const;
  /// The code unit at `p` (unit() bytes).
  std::uint32_t unitAt(const char* p) const;
  bool operator==(const TextEncoding& o) const {
    return kind == o.kind && big_endian == o.big_endian;
  }
};

/// The encodings MLTable's read_delimited and read_json_lines accept, for
/// messages: "utf8, utf8bom, iso88591, latin1, ascii, utf16, utf32,
/// windows1252".
extern const char kSupportedEncodings[];

/// An MLTable encoding name (case, '-' and '_' ignored; "cp1252" is
/// windows1252), or nullopt when it is none of kSupportedEncodings.
std::optional<TextEncoding> parseEncoding(llvm::StringRef name);

/// A byte order mark at the start of `head` (the first bytes of a file):
/// its length (0: none) and the encoding it marks.
struct ByteOrderMark {
  std::size_t length = 0;
  TextEncoding encoding;
};
ByteOrderMark detectByteOrderMark(llvm::StringRef head);

/// Appends `bytes` (in `enc`, without a byte order mark) to `out` as UTF-8.
/// Returns false at the first byte sequence that is not a character of
/// `enc` (ASCII above 0x7F, a byte windows-1252 leaves undefined, a lone
/// UTF-16 surrogate, a cut-off code unit, ...), with `bad_at` set to its
/// offset in `bytes`. UTF-8 is copied as it is.
bool appendUtf8(llvm::StringRef bytes, const TextEncoding& enc,
                std::string& out, std::size_t* bad_at = nullptr);

}  // namespace pipec::runtime::parallel
