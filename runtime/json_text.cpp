// JsonWriter: the escapes and layout of llvm::json::OStream.
#include "runtime/json_text.h"

#include <algorithm>

#include "llvm/Support/JSON.h"

namespace pipec::runtime {

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

void JsonWriter::quote(llvm::StringRef s) {
  out_ += '"';
  auto plain = [](unsigned char c) {
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
  };
  if (std::all_of(s.begin(), s.end(), plain)) {
    out_.append(s.data(), s.size());
    out_ += '"';
    return;
  }
  // llvm::json replaces bytes that are not UTF-8 the same way.
  std::string fixed;
  if (!llvm::json::isUTF8(s)) {
    fixed = llvm::json::fixUTF8(s);
    s = fixed;
  }
  static const char kHex[] = "0123456789abcdef";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out_ += '\\';
      out_ += char(c);
    } else if (c >= 0x20) {
      out_ += char(c);
    } else if (c == '\t') {
      out_ += "\\t";
    } else if (c == '\n') {
      out_ += "\\n";
    } else if (c == '\r') {
      out_ += "\\r";
    } else {
      out_ += "\\u00";
      out_ += kHex[c >> 4];
      out_ += kHex[c & 15];
    }
  }
  out_ += '"';
}

}  // namespace pipec::runtime
