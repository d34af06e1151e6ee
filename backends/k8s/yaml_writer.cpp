// Block-style YAML with double-quoted strings, written straight into a
// string (yaml_writer.h).
#include "backends/k8s/yaml_writer.h"

#include <array>
#include <cassert>

namespace pipec::backends::k8s {

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

/// Decodes one UTF-8 sequence at `p` (a byte >= 0x80) and advances past it.
/// Returns the code point, or -1 for a bad sequence, past which `p` is
/// advanced by its maximal valid prefix (at least one byte), as Unicode
/// recommends for replacing it with one U+FFFD.
std::int32_t decode(const char*& p, const char* end) {
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

}  // namespace

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
    std::int32_t cp = decode(p, end);
    if (cp < 0)
      out += "\xef\xbf\xbd";  // U+FFFD
    else if (printableRaw(static_cast<std::uint32_t>(cp)))
      out.append(at, p - at);
    else
      appendEscape(out, static_cast<std::uint32_t>(cp));
  }
  out += '"';
}

bool plainKey(llvm::StringRef key) {
  if (key.empty() || key == "-" || key == "null" || key == "Null" ||
      key == "NULL")
    return false;
  for (char c : key)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
          c == '/'))
      return false;
  return true;
}

void YamlWriter::newLine(std::size_t indent) {
  if (!start_) out_ += '\n';
  start_ = false;
  out_.append(indent, ' ');
}

YamlWriter::Intro YamlWriter::place(bool container) {
  if (stack_.empty()) {
    if (!container) start_ = false;
    return Intro::Root;
  }
  Frame& f = stack_.back();
  if (f.is_map) {
    // After the key: a scalar follows on its line; a container begins with
    // its first entry (or `{}`/`[]` on a line of its own).
    if (!container) out_ += ' ';
    return Intro::MapValue;
  }
  newLine(f.indent);
  f.any = true;
  out_ += container ? "-" : "- ";
  return Intro::SeqItem;
}

std::size_t YamlWriter::childIndent() const {
  return stack_.empty() ? 0 : stack_.back().indent + 2;
}

void YamlWriter::open(bool is_map) {
  std::size_t indent = childIndent();
  Intro intro = place(true);
  stack_.push_back(Frame{is_map, intro, false, indent});
}

void YamlWriter::close() {
  assert(!stack_.empty());
  Frame f = stack_.back();
  stack_.pop_back();
  if (f.any) return;
  const char* empty = f.is_map ? "{}" : "[]";
  switch (f.intro) {
    case Intro::Root:
      start_ = false;
      out_ += empty;
      break;
    case Intro::MapValue:
      newLine(f.indent);
      out_ += empty;
      break;
    case Intro::SeqItem:
      if (f.is_map) {
        out_ += " {}";
      } else {
        newLine(f.indent);
        out_ += empty;
      }
      break;
  }
}

YamlWriter& YamlWriter::map() {
  open(true);
  return *this;
}

YamlWriter& YamlWriter::end() {
  assert(!stack_.empty() && stack_.back().is_map);
  close();
  return *this;
}

YamlWriter& YamlWriter::seq() {
  open(false);
  return *this;
}

YamlWriter& YamlWriter::endSeq() {
  assert(!stack_.empty() && !stack_.back().is_map);
  close();
  return *this;
}

YamlWriter& YamlWriter::key(llvm::StringRef k) {
  assert(!stack_.empty() && stack_.back().is_map);
  Frame& f = stack_.back();
  if (!f.any && f.intro == Intro::SeqItem)
    out_ += ' ';  // the first key of a map in a sequence follows its `-`
  else
    newLine(f.indent);
  f.any = true;
  if (plainKey(k))
    out_.append(k.data(), k.size());
  else
    appendDoubleQuoted(out_, k);
  out_ += ':';
  return *this;
}

YamlWriter& YamlWriter::str(llvm::StringRef v) {
  place(false);
  appendDoubleQuoted(out_, v);
  return *this;
}

YamlWriter& YamlWriter::integer(std::int64_t v) {
  place(false);
  out_ += std::to_string(v);
  return *this;
}

YamlWriter& YamlWriter::boolean(bool v) {
  place(false);
  out_ += v ? "true" : "false";
  return *this;
}

YamlWriter& YamlWriter::literal(llvm::StringRef text) {
  // What a literal block keeps exactly: printable lines, none empty, the
  // first not starting with a blank, no line end at the end (the block's
  // own line end is its last).
  bool ok = !text.empty() && text.front() != ' ' && text.front() != '\t' &&
            text.back() != '\n' && !text.contains("\n\n");
  for (const char* p = text.begin(); ok && p != text.end();) {
    auto c = static_cast<unsigned char>(*p);
    if (c < 0x80) {
      ok = c == '\n' || (c >= 0x20 && c < 0x7f);
      ++p;
      continue;
    }
    std::int32_t cp = decode(p, text.end());
    ok = cp >= 0 && printableRaw(static_cast<std::uint32_t>(cp));
  }
  if (!ok) return str(text);
  std::size_t indent = childIndent();
  place(false);
  out_ += "|\n";
  // Each line at the indent of the block; `ok` above means none is empty.
  for (std::size_t at = 0;;) {
    std::size_t nl = text.find('\n', at);
    llvm::StringRef line = text.slice(at, nl);
    out_.append(indent, ' ');
    out_.append(line.data(), line.size());
    if (nl == llvm::StringRef::npos) break;
    out_ += '\n';
    at = nl + 1;
  }
  return *this;
}

}  // namespace pipec::backends::k8s
