// Writes the ordered YAML tree of the Azure ML backend.
#include "backends/azureml/yaml_out.h"

#include <cmath>

#include "ir/types.h"
#include "ir/yaml_quote.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"

namespace pipec::backends::azureml {

YNode YNode::str(std::string s) {
  YNode n;
  n.kind = Kind::Scalar;
  n.value = std::move(s);
  return n;
}

YNode YNode::plain(std::string s) {
  YNode n = str(std::move(s));
  n.raw = true;
  return n;
}

YNode YNode::number(double v) {
  if (std::isnan(v)) return plain(".nan");
  if (std::isinf(v)) return plain(v < 0 ? "-.inf" : ".inf");
  return plain(ir::formatFloat(v));
}

YNode YNode::map() { return YNode(); }

YNode YNode::aliasOf(std::string name) {
  YNode n = plain("*" + name);
  n.alias = true;
  return n;
}

YNode YNode::seq() {
  YNode n;
  n.kind = Kind::Seq;
  return n;
}

void YNode::set(llvm::StringRef key, YNode v) {
  for (auto& [k, old] : entries)
    if (k == key) {
      old = std::move(v);
      return;
    }
  entries.emplace_back(key.str(), std::move(v));
}

bool plainSafe(llvm::StringRef s) {
  if (s.empty()) return false;
  // Words YAML 1.1 (PyYAML, Azure's CLI) or 1.2 read as bools or null.
  if (s.size() <= 5 &&
      llvm::StringSwitch<bool>(s.lower())
          .Cases("true", "false", "yes", "no", "on", "off", "y", "n", true)
          .Cases("null", "~", true)
          .Default(false))
    return false;
  // A whole binding `${{a.b.c}}` reads back as itself.
  if (s.startswith("${{") && s.endswith("}}") && s.size() > 5) {
    llvm::StringRef in = s.drop_front(3).drop_back(2);
    return llvm::all_of(in, [](char c) {
      return llvm::isAlnum(c) || c == '_' || c == '.' || c == '-';
    });
  }
  // A letter or '_' first (never a number, '-', '.', or an indicator), then
  // characters that end no token: no ':', '#', quotes, spaces or brackets.
  if (!llvm::isAlpha(s[0]) && s[0] != '_' && s[0] != '/') return false;
  return llvm::all_of(s, [](char c) {
    return llvm::isAlnum(c) || c == '_' || c == '-' || c == '.' || c == '/' ||
           c == '@' || c == '+';
  });
}

std::string doubleQuoted(llvm::StringRef s) {
  std::string out;
  ir::yaml::appendDoubleQuoted(out, s);
  return out;
}

namespace {

std::string scalarText(const YNode& n) {
  if (n.raw) return n.value;
  return plainSafe(n.value) ? n.value : doubleQuoted(n.value);
}

std::string keyText(llvm::StringRef k) {
  if (!k.empty() && k[0] == '$' && plainSafe(k.drop_front())) return k.str();
  return plainSafe(k) ? k.str() : doubleQuoted(k);
}

void write(const YNode& n, unsigned indent, std::string& out);

// The value after "key:" or "- ": on the same line, or nested below.
void writeValue(const YNode& v, unsigned indent, std::string& out) {
  if (v.kind == YNode::Kind::Scalar && v.raw && v.value.empty()) {
    out += '\n';  // null, written as nothing
  } else if (v.kind == YNode::Kind::Scalar) {
    out += ' ';
    out += scalarText(v);
    out += '\n';
  } else if (v.empty()) {
    out += v.kind == YNode::Kind::Map ? " {}\n" : " []\n";
  } else {
    if (!v.anchor.empty()) out += " &" + v.anchor;
    out += '\n';
    write(v, indent + 2, out);
  }
}

void write(const YNode& n, unsigned indent, std::string& out) {
  std::string pad(indent, ' ');
  if (n.kind == YNode::Kind::Map) {
    for (const auto& [k, v] : n.entries) {
      out += pad + keyText(k) + ':';
      writeValue(v, indent, out);
    }
  } else if (n.kind == YNode::Kind::Seq) {
    for (const YNode& v : n.items) {
      out += pad + "-";
      writeValue(v, indent, out);
    }
  } else {
    out += pad + scalarText(n) + "\n";
  }
}

}  // namespace

std::string YNode::text() const {
  std::string out;
  write(*this, 0, out);
  return out;
}

}  // namespace pipec::backends::azureml
