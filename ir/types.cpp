// Types, their Azure aliases, assignability, and literal conversion.
#include "ir/types.h"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "llvm/ADT/StringExtras.h"

namespace pipec::ir {

namespace {
struct Spelling {
  llvm::StringRef name;
  Type type;
};
constexpr Spelling kSpellings[] = {
    {"int", Type::Int},
    {"float", Type::Float},
    {"string", Type::String},
    {"bool", Type::Bool},
    {"file", Type::File},
    {"folder", Type::Folder},
    {"table", Type::Table},
    {"model", Type::Model},
    {"integer", Type::Int},
    {"number", Type::Float},
    {"boolean", Type::Bool},
    {"str", Type::String},
    {"uri_file", Type::File},
    {"uri_folder", Type::Folder},
    {"mltable", Type::Table},
    {"custom_model", Type::Model},
    {"mlflow_model", Type::Model},
    {"triton_model", Type::Model},
};
}  // namespace

llvm::StringRef typeName(Type t) {
  switch (t) {
    case Type::Int:
      return "int";
    case Type::Float:
      return "float";
    case Type::String:
      return "string";
    case Type::Bool:
      return "bool";
    case Type::File:
      return "file";
    case Type::Folder:
      return "folder";
    case Type::Table:
      return "table";
    case Type::Model:
      return "model";
  }
  return "?";
}

std::optional<Type> parseType(llvm::StringRef name) {
  for (const Spelling& s : kSpellings)
    if (s.name.equals_insensitive(name)) return s.type;
  return std::nullopt;
}

llvm::ArrayRef<llvm::StringRef> typeSpellings() {
  static const std::vector<llvm::StringRef> names = [] {
    std::vector<llvm::StringRef> v;
    for (const Spelling& s : kSpellings) v.push_back(s.name);
    return v;
  }();
  return names;
}

bool isAssignable(Type from, Type to) {
  if (from == to) return true;
  switch (to) {
    case Type::Float:
      return from == Type::Int;
    case Type::String:
      // Any scalar prints as text.
      return from == Type::Int || from == Type::Float || from == Type::Bool;
    case Type::Folder:
      // A model and an MLTable are folders.
      return from == Type::Model || from == Type::Table;
    case Type::Model:
      return from == Type::Folder;
    case Type::Table:
      // A table is a CSV/JSON Lines file or an MLTable folder.
      return from == Type::File || from == Type::Folder;
    default:
      return false;
  }
}

Value Value::makeInt(std::int64_t v) {
  Value r;
  r.kind_ = Kind::Int;
  r.int_ = v;
  return r;
}
Value Value::makeFloat(double v) {
  Value r;
  r.kind_ = Kind::Float;
  r.float_ = v;
  return r;
}
Value Value::makeString(std::string v) {
  Value r;
  r.kind_ = Kind::String;
  r.str_ = std::move(v);
  return r;
}
Value Value::makeBool(bool v) {
  Value r;
  r.kind_ = Kind::Bool;
  r.bool_ = v;
  return r;
}

Type Value::type() const {
  switch (kind_) {
    case Kind::Int:
      return Type::Int;
    case Kind::Float:
      return Type::Float;
    case Kind::Bool:
      return Type::Bool;
    case Kind::String:
      return Type::String;
  }
  return Type::String;
}

std::string formatFloat(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v < 0 ? "-Infinity" : "Infinity";
  std::string s = fmt::format("{}", v);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

std::string Value::toText() const {
  switch (kind_) {
    case Kind::Int:
      return std::to_string(int_);
    case Kind::Float:
      return formatFloat(float_);
    case Kind::Bool:
      return bool_ ? "true" : "false";
    case Kind::String:
      return str_;
  }
  return str_;
}

std::string Value::toJsonText() const {
  if (kind_ != Kind::String) return toText();
  std::string out;
  llvm::raw_string_ostream os(out);
  os << llvm::json::Value(str_);
  return os.str();
}

llvm::json::Value Value::toJson() const {
  switch (kind_) {
    case Kind::Int:
      return int_;
    case Kind::Float:
      return float_;
    case Kind::Bool:
      return bool_;
    case Kind::String:
      return str_;
  }
  return nullptr;
}

bool Value::operator==(const Value& o) const {
  if (kind_ != o.kind_) {
    bool numeric = (kind_ == Kind::Int || kind_ == Kind::Float) &&
                   (o.kind_ == Kind::Int || o.kind_ == Kind::Float);
    return numeric && asFloat() == o.asFloat();
  }
  switch (kind_) {
    case Kind::Int:
      return int_ == o.int_;
    case Kind::Float:
      return float_ == o.float_;
    case Kind::Bool:
      return bool_ == o.bool_;
    case Kind::String:
      return str_ == o.str_;
  }
  return false;
}

namespace {
bool parseBool(llvm::StringRef t, bool& out) {
  if (t == "true" || t == "True" || t == "TRUE") {
    out = true;
    return true;
  }
  if (t == "false" || t == "False" || t == "FALSE") {
    out = false;
    return true;
  }
  return false;
}

// YAML 1.2 core integers: [-+]?[0-9]+, 0o[0-7]+, 0x[0-9a-fA-F]+.
// Returns false when not an integer; sets overflow when it is one but does
// not fit.
bool parseInt(llvm::StringRef t, std::int64_t& out, bool& overflow) {
  overflow = false;
  if (t.empty()) return false;
  unsigned radix = 10;
  llvm::StringRef digits = t;
  bool negative = false;
  if (t.startswith("0x")) {
    radix = 16;
    digits = t.drop_front(2);
  } else if (t.startswith("0o")) {
    radix = 8;
    digits = t.drop_front(2);
  } else {
    if (digits.front() == '-' || digits.front() == '+') {
      negative = digits.front() == '-';
      digits = digits.drop_front();
    }
  }
  if (digits.empty()) return false;
  for (char c : digits) {
    bool ok = radix == 16  ? llvm::isHexDigit(c)
              : radix == 8 ? (c >= '0' && c <= '7')
                           : llvm::isDigit(c);
    if (!ok) return false;
  }
  unsigned long long mag = 0;
  for (char c : digits) {
    unsigned d = llvm::hexDigitValue(c);
    if (mag > (~0ULL - d) / radix) {
      overflow = true;
      return true;
    }
    mag = mag * radix + d;
  }
  if (negative) {
    if (mag > 9223372036854775808ULL) {
      overflow = true;
      return true;
    }
    out = mag == 9223372036854775808ULL ? INT64_MIN : -std::int64_t(mag);
  } else {
    if (mag > 9223372036854775807ULL) {
      overflow = true;
      return true;
    }
    out = std::int64_t(mag);
  }
  return true;
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool looksLikeFloat(llvm::StringRef t) {
  std::size_t i = 0, n = t.size();
  if (i < n && (t[i] == '-' || t[i] == '+')) ++i;
  std::size_t int_digits = 0, frac_digits = 0;
  while (i < n && llvm::isDigit(t[i])) ++i, ++int_digits;
  if (i < n && t[i] == '.') {
    ++i;
    while (i < n && llvm::isDigit(t[i])) ++i, ++frac_digits;
  }
  if (int_digits + frac_digits == 0) return false;
  if (i < n && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < n && (t[i] == '-' || t[i] == '+')) ++i;
    std::size_t exp_digits = 0;
    while (i < n && llvm::isDigit(t[i])) ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  return i == n;
}

bool parseFloat(llvm::StringRef t, double& out, bool& overflow) {
  overflow = false;
  if (!looksLikeFloat(t)) return false;
  std::string s = t.str();
  errno = 0;
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  if (errno == ERANGE && std::isinf(out)) overflow = true;
  return true;
}
}  // namespace

Type naturalType(llvm::StringRef text, bool quoted) {
  if (quoted) return Type::String;
  bool b;
  if (parseBool(text, b)) return Type::Bool;
  std::int64_t i;
  bool overflow;
  // An integer too large for 64 bits is still an int: converting it reports
  // that it does not fit rather than silently making it a float.
  if (parseInt(text, i, overflow)) return Type::Int;
  double d;
  if (parseFloat(text, d, overflow)) return Type::Float;
  return Type::String;
}

std::optional<Value> convertLiteral(llvm::StringRef text, Type type,
                                    ConvertError& err) {
  err = ConvertError::None;
  bool overflow = false;
  switch (type) {
    case Type::String:
      return Value::makeString(text.str());
    case Type::Bool: {
      bool b;
      if (parseBool(text.trim(), b)) return Value::makeBool(b);
      err = ConvertError::WrongType;
      return std::nullopt;
    }
    case Type::Int: {
      std::int64_t i;
      if (parseInt(text.trim(), i, overflow)) {
        if (overflow) {
          err = ConvertError::OutOfRange;
          return std::nullopt;
        }
        return Value::makeInt(i);
      }
      // 3.0 is an int written as a float: accept only exact integers.
      double d;
      if (parseFloat(text.trim(), d, overflow)) {
        bool whole = overflow || d == std::floor(d);
        if (whole && !overflow && std::fabs(d) < 9.007199254740992e15)
          return Value::makeInt(std::int64_t(d));
        if (whole) {
          err = ConvertError::OutOfRange;  // 1e20, 1e999
          return std::nullopt;
        }
      }
      err = ConvertError::WrongType;
      return std::nullopt;
    }
    case Type::Float: {
      double d;
      if (parseFloat(text.trim(), d, overflow)) {
        if (overflow) {
          err = ConvertError::OutOfRange;
          return std::nullopt;
        }
        return Value::makeFloat(d);
      }
      std::int64_t i;
      if (parseInt(text.trim(), i, overflow) && !overflow)
        return Value::makeFloat(double(i));
      err = ConvertError::WrongType;
      return std::nullopt;
    }
    default:
      err = ConvertError::WrongType;
      return std::nullopt;
  }
}

namespace {
// Parses "<number><unit>" with an optional space; returns the number and the
// lower-cased unit.
bool splitNumberUnit(llvm::StringRef text, double& number, std::string& unit) {
  text = text.trim();
  std::size_t i = 0;
  while (i < text.size() && (llvm::isDigit(text[i]) || text[i] == '.')) ++i;
  if (i == 0) return false;
  llvm::StringRef num = text.take_front(i);
  if (num.count('.') > 1 || num == ".") return false;
  number = std::strtod(num.str().c_str(), nullptr);
  unit = text.drop_front(i).trim().lower();
  return std::isfinite(number);
}
}  // namespace

std::optional<std::uint64_t> parseSize(llvm::StringRef text) {
  double n;
  std::string unit;
  if (!splitNumberUnit(text, n, unit)) return std::nullopt;
  double mult;
  if (unit.empty() || unit == "b")
    mult = 1;
  else if (unit == "kb" || unit == "k" || unit == "kib")
    mult = 1024;
  else if (unit == "mb" || unit == "m" || unit == "mib")
    mult = 1024.0 * 1024;
  else if (unit == "gb" || unit == "g" || unit == "gib")
    mult = 1024.0 * 1024 * 1024;
  else
    return std::nullopt;
  double bytes = n * mult;
  if (bytes > 1.8e19) return std::nullopt;
  return std::uint64_t(bytes);
}

std::optional<BatchSize> parseBatchSize(llvm::StringRef text) {
  text = text.trim();
  std::uint64_t count;
  if (!text.empty() && llvm::all_of(text, llvm::isDigit)) {
    if (text.getAsInteger(10, count) || count == 0) return std::nullopt;
    return BatchSize{count, false};
  }
  double n;
  std::string unit;
  if (!splitNumberUnit(text, n, unit) || unit.empty()) return std::nullopt;
  // A fraction of a byte is not a size.
  if ((unit == "b") && n != std::floor(n)) return std::nullopt;
  auto bytes = parseSize(text);
  if (!bytes || *bytes == 0) return std::nullopt;
  return BatchSize{*bytes, true};
}

std::optional<std::uint64_t> parseDuration(llvm::StringRef text) {
  double n;
  std::string unit;
  if (!splitNumberUnit(text, n, unit)) return std::nullopt;
  double mult;
  if (unit.empty() || unit == "s" || unit == "sec")
    mult = 1000;
  else if (unit == "ms")
    mult = 1;
  else if (unit == "m" || unit == "min")
    mult = 60000;
  else if (unit == "h")
    mult = 3600000;
  else
    return std::nullopt;
  double ms = n * mult;
  if (ms > 1.8e19) return std::nullopt;
  return std::uint64_t(ms);
}

}  // namespace pipec::ir
