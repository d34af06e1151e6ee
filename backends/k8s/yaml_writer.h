// A small streaming writer of block-style YAML for the manifests: every
// string double-quoted, the layout yaml-cpp's emitter gives with an indent
// of 2 (the manifests were written with it before, byte for byte), written
// straight into one string.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "llvm/ADT/StringRef.h"

namespace pipec::backends::k8s {

/// Whether `key` is written as a plain scalar (as yaml-cpp decides for the
/// keys the manifests use: letters, digits, `-._/`, not a null word, not a
/// lone `-`); other keys are double-quoted.
bool plainKey(llvm::StringRef key);
/// plainKey() of a key whose bytes are known to be letters, digits and
/// `-._/` (a valid ConfigMap key): what is left to ask is whether YAML
/// would read it as something else.
bool plainKeyOfPlainBytes(llvm::StringRef key);

/// Block-style YAML, written as the calls come: `map()`/`end()`,
/// `seq()`/`endSeq()`, `key()` before each value of a map. Several
/// documents may be written one after another into the same string, each
/// begun with `document()`.
class YamlWriter {
 public:
  explicit YamlWriter(std::string& out) : out_(out) {}

  /// Starts a document: the next value is its root.
  void document() {
    stack_.clear();
    start_ = true;
  }

  YamlWriter& map();
  YamlWriter& end();
  YamlWriter& seq();
  YamlWriter& endSeq();
  YamlWriter& key(llvm::StringRef k);
  YamlWriter& str(llvm::StringRef v);
  YamlWriter& integer(std::int64_t v);
  YamlWriter& boolean(bool v);
  /// A literal block scalar (`|`) of `text`: lines that are not empty,
  /// printable, the first not starting with a blank, no line end at the
  /// end. Other text is written double-quoted, which keeps every value.
  YamlWriter& literal(llvm::StringRef text);
  /// Items of the open sequence written by the caller straight into the
  /// output, after this call: whole lines, each begun with its line end,
  /// `- ` at the returned indent (the layout this writer gives).
  std::size_t items() {
    stack_.back().any = true;
    start_ = false;
    return stack_.back().indent;
  }

 private:
  enum class Intro : std::uint8_t { Root, MapValue, SeqItem };
  struct Frame {
    bool is_map;
    Intro intro;
    bool any = false;
    std::size_t indent;
  };
  void newLine(std::size_t indent);
  /// Prepares the place of the next value (a map's value after its key,
  /// a sequence's item, or the root) and says how it was introduced.
  Intro place(bool container);
  void open(bool is_map);
  void close();
  std::size_t childIndent() const;

  std::string& out_;
  std::vector<Frame> stack_;
  bool start_ = true;  ///< nothing of the document written yet
};

}  // namespace pipec::backends::k8s
