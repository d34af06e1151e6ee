// Block-style YAML with double-quoted strings, written straight into a
// string (yaml_writer.h).
#include "backends/k8s/yaml_writer.h"

#include <array>
#include <cassert>

#include "ir/yaml_quote.h"

namespace pipec::backends::k8s {

namespace {

/// The bytes of a plain key: letters, digits, `-._/`.
constexpr std::array<bool, 256> kKeyByte = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c)
    t[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '/';
  return t;
}();

}  // namespace

bool plainKey(llvm::StringRef key) {
  // Every byte looked up, without a branch per byte.
  bool ok = true;
  for (char c : key) ok &= kKeyByte[static_cast<unsigned char>(c)];
  return ok && plainKeyOfPlainBytes(key);
}

bool plainKeyOfPlainBytes(llvm::StringRef key) {
  switch (key.size()) {
    case 0:
      return false;
    case 1:
      return key[0] != '-';
    case 4:
      return key != "null" && key != "Null" && key != "NULL";
    default:
      return true;
  }
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
    ir::yaml::appendDoubleQuoted(out_, k);
  out_ += ':';
  return *this;
}

YamlWriter& YamlWriter::str(llvm::StringRef v) {
  place(false);
  ir::yaml::appendDoubleQuoted(out_, v);
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
    std::int32_t cp = ir::yaml::decodeUtf8(p, text.end());
    ok = cp >= 0 && ir::yaml::printableRaw(static_cast<std::uint32_t>(cp));
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
