// A small ordered YAML tree and its block-style writer: keys in the order
// they were set, strings plain only when every YAML reader (1.1 and 1.2)
// reads them back as the same string, else double-quoted with escapes.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "llvm/ADT/StringRef.h"

namespace pipec::backends::azureml {

struct YNode {
  enum class Kind : unsigned char { Scalar, Map, Seq };
  Kind kind = Kind::Map;
  std::string value;   ///< a scalar's text
  bool raw = false;    ///< a scalar written as is (numbers, true, null)
  std::string anchor;  ///< `&anchor` before a collection; empty: none
  bool alias = false;  ///< `*value`: the collection anchored so
  std::vector<std::pair<std::string, YNode>> entries;
  std::vector<YNode> items;

  /// A string value: plain when safe, else double-quoted.
  static YNode str(std::string s);
  /// A scalar written exactly as `s` (a number, `true`); "" is null, written
  /// as nothing after its key.
  static YNode plain(std::string s);
  /// A float in a form every reader takes as a float (`2.0`, `.inf`).
  static YNode number(double v);
  static YNode map();
  static YNode seq();
  /// `*name`: the node anchored as `name` earlier in the document.
  static YNode aliasOf(std::string name);

  /// Sets `key` (replacing an earlier entry of that key in place).
  void set(llvm::StringRef key, YNode value);
  /// Appends `key`, which the caller knows is new (no search).
  void add(llvm::StringRef key, YNode value) {
    entries.emplace_back(key.str(), std::move(value));
  }
  void push(YNode value) { items.push_back(std::move(value)); }
  bool empty() const {
    return kind == Kind::Map   ? entries.empty()
           : kind == Kind::Seq ? items.empty()
                               : false;
  }

  /// The document as block-style YAML, ending with a line feed.
  std::string text() const;
};

/// Whether `s` may be written as a plain scalar and read back as this
/// string by YAML 1.1 and 1.2 readers alike.
bool plainSafe(llvm::StringRef s);
/// `s` as a double-quoted YAML scalar.
std::string doubleQuoted(llvm::StringRef s);

}  // namespace pipec::backends::azureml
