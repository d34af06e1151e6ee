// A located YAML tree built from yaml-cpp events, with limits for hostile
// input.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ir/diagnostics.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/SourceMgr.h"

namespace pipec::frontend::yaml {

/// One YAML node. Aliases share the anchored node.
struct Node {
  enum class Kind : std::uint8_t { Null, Scalar, Sequence, Mapping };
  Kind kind = Kind::Null;
  bool plain = false;  ///< a plain (unquoted, non-block) scalar
  llvm::SMRange range;
  std::string value;  ///< scalar text
  std::string tag;    ///< explicit tag, or empty
  std::vector<Node*> items;
  std::vector<std::pair<Node*, Node*>> entries;

  bool isScalar() const { return kind == Kind::Scalar; }
  bool isNull() const { return kind == Kind::Null; }
  bool isMap() const { return kind == Kind::Mapping; }
  bool isSeq() const { return kind == Kind::Sequence; }
  /// The value of the first entry whose key is the scalar `key`.
  const Node* get(llvm::StringRef key) const;
  /// "a mapping", "a sequence", "a scalar", "null" (for messages).
  const char* kindName() const;
};

struct Limits {
  /// Nodes reachable through aliases, counted with repetition.
  std::uint64_t max_alias_expansion = 1'000'000;
  /// Nesting depth. yaml-cpp gives up at 2000 recursions of its own parser,
  /// which is about 500 levels of flow mappings; stop well before.
  unsigned max_depth = 256;
};

/// A parsed file. Owns its nodes.
struct Document {
  const Node* root() const { return root_; }

  std::deque<Node> arena_;
  Node* root_ = nullptr;
};

/// Parses buffer `buffer_id` of `sm`. Syntax errors, invalid UTF-8, binary
/// content, duplicate keys and oversized alias expansion are reported to
/// `diags`; returns nullptr when no usable tree was built.
std::unique_ptr<Document> parse(const llvm::SourceMgr& sm, unsigned buffer_id,
                                ir::DiagnosticEngine& diags,
                                const Limits& limits = {});

}  // namespace pipec::frontend::yaml
