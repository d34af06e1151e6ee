// JSON text written straight into a string, laid out as llvm::json prints
// it with an indent of 2, for the files a run writes per step.
#pragma once

#include <cstdint>
#include <string>

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

namespace pipec::lowering {

/// Appends `s` to `out` as a JSON string literal (with quotes). Bytes that are
/// not valid UTF-8 become `\udcXX` escapes, Python's "surrogateescape" form,
/// so `os.fsencode` on the Python side gives the original bytes back.
void appendJsonString(std::string& out, llvm::StringRef s);

/// Appends `s` as llvm::json prints a string value: bytes that are not UTF-8
/// become U+FFFD, the rest escapes as appendJsonString() escapes it.
void appendJsonValue(std::string& out, llvm::StringRef s);

/// Writes objects, keys and scalars in the order given; the caller gives
/// the keys of an object sorted, as llvm::json prints them. The text equals
/// `llvm::formatv("{0:2}", value)` for the same value, without building the
/// value first (which costs more than the rest of a step's plan).
class JsonWriter {
 public:
  void beginObject();
  void endObject();
  void key(llvm::StringRef k);
  void value(llvm::StringRef s);
  void value(std::int64_t n);
  /// The text so far; the writer is empty afterwards.
  std::string take() { return std::move(out_); }

 private:
  void newline();
  void quote(llvm::StringRef s);

  std::string out_;
  /// Per open object: no key written yet.
  llvm::SmallVector<bool, 4> empty_;
};

}  // namespace pipec::lowering
