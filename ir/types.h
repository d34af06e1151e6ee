// Types of ports and hyperparameters, and typed scalar values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/JSON.h"

namespace pipec::ir {

/// The types of LANGUAGE.md: four scalars and four artifacts.
enum class Type : std::uint8_t {
  Int,
  Float,
  String,
  Bool,
  File,
  Folder,
  Table,
  Model,
};

/// True for file, folder, table and model: the types of channels.
inline bool isArtifact(Type t) { return t >= Type::File; }
/// Canonical spelling ("int", "folder", ...).
llvm::StringRef typeName(Type t);
/// Parses a type name, accepting the Azure aliases (uri_file, integer, ...).
std::optional<Type> parseType(llvm::StringRef name);
/// Every accepted spelling, canonical ones first (for did-you-mean).
llvm::ArrayRef<llvm::StringRef> typeSpellings();

/// Can a value of type `from` be bound where `to` is expected?
bool isAssignable(Type from, Type to);

/// A typed scalar literal: the value of a hyperparameter.
class Value {
 public:
  enum class Kind : std::uint8_t { Int, Float, String, Bool };

  static Value makeInt(std::int64_t v);
  static Value makeFloat(double v);
  static Value makeString(std::string v);
  static Value makeBool(bool v);

  Kind kind() const { return kind_; }
  std::int64_t asInt() const { return int_; }
  double asFloat() const { return kind_ == Kind::Int ? double(int_) : float_; }
  const std::string& asString() const { return str_; }
  bool asBool() const { return bool_; }
  /// The natural type of this value.
  Type type() const;

  /// Text as it reaches the process (PAI_HPS_X, command lines): ints in
  /// decimal, floats in shortest round-trip form, bools as true/false.
  std::string toText() const;
  /// JSON text: numbers and bools bare, strings quoted and escaped.
  std::string toJsonText() const;
  llvm::json::Value toJson() const;

  bool operator==(const Value& o) const;
  bool operator!=(const Value& o) const { return !(*this == o); }

 private:
  Kind kind_ = Kind::String;
  std::int64_t int_ = 0;
  double float_ = 0;
  bool bool_ = false;
  std::string str_;
};

/// Shortest text that reads back as `v`, with ".0" added to integral values
/// (as Python's repr does): 0.001 -> "0.001", 2.0 -> "2.0".
std::string formatFloat(double v);

/// Why a literal did not convert.
enum class ConvertError : std::uint8_t {
  None,
  WrongType,   ///< not a literal of that type at all
  OutOfRange,  ///< an integer that does not fit 64 bits, or a float overflow
};

/// Converts the text of a literal to `type`. Quoted and plain text convert
/// alike: Azure files quote numbers and bools. Returns nullopt and sets `err`
/// when the text is not of `type` or does not fit.
std::optional<Value> convertLiteral(llvm::StringRef text, Type type,
                                    ConvertError& err);

/// The type a literal has on its own (plain `10` is int, `"10"` string),
/// following the YAML 1.2 core schema.
Type naturalType(llvm::StringRef text, bool quoted);

/// Parses a size literal (`10kb`, `1mb`, `512`, `2 GB`) into bytes.
std::optional<std::uint64_t> parseSize(llvm::StringRef text);

/// A parallel step's `mini_batch_size`: a count of files, or bytes.
struct BatchSize {
  std::uint64_t value = 0;
  bool bytes = false;
};
/// The one rule for `mini_batch_size`, wherever it is written: a count is a
/// whole number in digits (`10`); a size has a unit (`10kb`, `1.5mb`, `512b`)
/// and comes to a whole number of bytes; either is at least 1. Anything else
/// (`2.5`, `1e3`, `0`, `-1`) is nothing.
std::optional<BatchSize> parseBatchSize(llvm::StringRef text);
/// Parses a duration literal (`60s`, `5m`, `1h`, `250ms`, bare seconds) into
/// milliseconds.
std::optional<std::uint64_t> parseDuration(llvm::StringRef text);

}  // namespace pipec::ir
