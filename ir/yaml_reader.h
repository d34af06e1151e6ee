// The one YAML reader of pipec: a located tree built with LLVM's YAML parser,
// with limits for hostile input.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "ir/diagnostics.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Allocator.h"
#include "llvm/Support/SourceMgr.h"

namespace pipec::ir::yaml {

/// One YAML node. Aliases share the anchored node. Nodes, their text and
/// their children live in their Document (or in the parsed source buffer):
/// nothing taken from a node outlives the Document and the SourceMgr buffer
/// it was read from. A node is trivially destructible and owns nothing.
struct Node {
  enum class Kind : std::uint8_t { Null, Scalar, Sequence, Mapping };
  Kind kind = Kind::Null;
  bool plain = false;  ///< a plain (unquoted, non-block) scalar without a tag
  /// From the node's first property (anchor or tag) or its first character
  /// (a quote, `|`, `[`, the first key of a block mapping, the `-` of a block
  /// sequence) to the end of a scalar; collections and nulls end where they
  /// start.
  llvm::SMRange range;
  /// Scalar text (line folding and escapes applied): the source text itself
  /// when it needs neither (most scalars), else a copy in the Document.
  llvm::StringRef value;
  /// Explicit tag in full (`tag:yaml.org,2002:str`), empty when none.
  llvm::StringRef tag;
  /// A sequence's items and a mapping's entries, arrays in the Document.
  llvm::MutableArrayRef<Node*> items;
  llvm::MutableArrayRef<std::pair<Node*, Node*>> entries;

  bool isScalar() const { return kind == Kind::Scalar; }
  bool isNull() const { return kind == Kind::Null; }
  bool isMap() const { return kind == Kind::Mapping; }
  bool isSeq() const { return kind == Kind::Sequence; }
  /// The value of the first entry whose key is the scalar `key`.
  const Node* get(llvm::StringRef key) const;
  /// "a mapping", "a sequence", "a scalar", "null" (for messages).
  const char* kindName() const;
};
// Documents free their arena without running destructors.
static_assert(std::is_trivially_destructible_v<Node>);

/// Bounds on what one file may make the reader do.
struct Limits {
  /// Nodes reachable through aliases, counted with repetition.
  std::uint64_t max_alias_expansion = 1'000'000;
  /// Bytes of scalar text reachable through aliases, counted with
  /// repetition: a tree that reads small but copies out large.
  std::uint64_t max_alias_bytes = 16u << 20;
  /// Nesting depth of collections.
  unsigned max_depth = 256;
  /// Separators in a row that make LLVM's parser recurse once each (`,` in a
  /// flow collection, `...` lines): more is refused before parsing.
  unsigned max_repeated_separators = 1000;
};

/// A parsed file. Owns its nodes, their children arrays and the text that
/// is not the source's own, all in one arena: no allocation per node. Values
/// that are the source text unchanged point into the SourceMgr's buffer,
/// which must outlive the document.
struct Document {
  const Node* root() const { return root_; }
  /// A new (null) node owned by the document.
  Node* newNode();
  /// How many nodes the document owns.
  std::size_t nodeCount() const { return count_; }
  /// A copy of `text` owned by the document.
  llvm::StringRef save(llvm::StringRef text);
  /// A copy of `list` owned by the document.
  template <typename T>
  llvm::MutableArrayRef<T> save(llvm::ArrayRef<T> list) {
    if (list.empty()) return {};
    T* out = arena_.Allocate<T>(list.size());
    std::uninitialized_copy(list.begin(), list.end(), out);
    return {out, list.size()};
  }

  Node* root_ = nullptr;

 private:
  // Slabs of 64 KiB that do not grow: a small file takes one, the
  // 10,000-step benchmark pipeline about 450. Below glibc's mmap threshold,
  // they come from the heap and go back to it with the document, so what is
  // allocated next (the AST, sema) reuses their pages instead of faulting in
  // new ones.
  llvm::BumpPtrAllocatorImpl<llvm::MallocAllocator, 65536, 65536, 1u << 30>
      arena_;
  std::size_t count_ = 0;
};

/// Parses buffer `buffer_id` of `sm`: the first document, and a second one
/// only far enough to warn that it is ignored. Syntax errors, invalid UTF-8,
/// binary content, unsupported tags, duplicate keys (the first is kept),
/// nesting and oversized alias expansion are reported to `diags`, located;
/// returns nullptr when no usable tree was built.
std::unique_ptr<Document> parse(const llvm::SourceMgr& sm, unsigned buffer_id,
                                DiagnosticEngine& diags,
                                const Limits& limits = {});

// --- The rules every builder of the tree applies (the reader, and the
// yaml-cpp oracle it is tested against).

/// Reports the first byte YAML does not allow in [begin, end) (NUL, control
/// characters, invalid UTF-8) and runs of more than `max_run` separators in a
/// row (see Limits); false if it reported anything.
bool checkBytes(const char* begin, const char* end, unsigned max_run,
                DiagnosticEngine& diags);
/// Sets `n->tag` to `tag` (text that lives as long as the document),
/// reporting a tag outside YAML's core schema: such tags ask a loader to
/// build objects (`!!python/object/apply`) or binary data.
void setCheckedTag(Node* n, llvm::StringRef tag, DiagnosticEngine& diags);
/// Applies YAML 1.1 merge keys (`<<: *base`): entries not already present
/// are added (in a new array of `doc`).
void applyMergeKeys(Document& doc, Node* map, DiagnosticEngine& diags);
/// Reports every repeated scalar key and keeps only its first entry, so that
/// later stages see each key once.
void dropDuplicateKeys(Node* map, DiagnosticEngine& diags);

/// Decodes the text of a scalar as written (`raw`, with its quotes): plain
/// and quoted line folding, double-quoted escapes. On a bad escape returns
/// false and sets `error_at` to the offending byte in `raw`.
bool scalarValue(llvm::StringRef raw, std::string& out, const char*& error_at,
                 std::string& error);

}  // namespace pipec::ir::yaml
