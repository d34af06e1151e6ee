// Builds the located YAML tree from yaml-cpp's event parser.
#include "frontend/yaml_doc.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/parser.h>

#include <istream>
#include <streambuf>

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringMap.h"

namespace pipec::frontend::yaml {

using ir::DiagKind;

const Node* Node::get(llvm::StringRef key) const {
  for (const auto& [k, v] : entries)
    if (k->kind == Kind::Scalar && k->value == key) return v;
  return nullptr;
}

const char* Node::kindName() const {
  switch (kind) {
    case Kind::Null:
      return "null";
    case Kind::Scalar:
      return "a scalar";
    case Kind::Sequence:
      return "a sequence";
    case Kind::Mapping:
      return "a mapping";
  }
  return "?";
}

namespace {

// A read-only streambuf over memory, so yaml-cpp reads the buffer in place.
class MemoryStreamBuf : public std::streambuf {
 public:
  MemoryStreamBuf(const char* begin, const char* end) {
    char* b = const_cast<char*>(begin);
    setg(b, b, const_cast<char*>(end));
  }
};

struct AbortParse {};

llvm::SMLoc markLoc(const char* base, const char* end, const YAML::Mark& m) {
  std::size_t pos = m.pos < 0 ? 0 : std::size_t(m.pos);
  std::size_t size = std::size_t(end - base);
  if (pos > size) pos = size;
  return llvm::SMLoc::getFromPointer(base + pos);
}

// Length of a UTF-8 sequence starting at p, or 0 when invalid.
std::size_t utf8SequenceLength(const unsigned char* p, const unsigned char* e) {
  unsigned char c = p[0];
  std::size_t n;
  std::uint32_t cp;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (std::size_t(e - p) < n) return 0;
  for (std::size_t i = 1; i < n; ++i) {
    if ((p[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (p[i] & 0x3F);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
      (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return n;
}

// Reports the first byte that YAML does not allow; returns false if any.
bool checkBytes(const char* begin, const char* end,
                ir::DiagnosticEngine& diags) {
  auto* p = reinterpret_cast<const unsigned char*>(begin);
  auto* e = reinterpret_cast<const unsigned char*>(end);
  while (p < e) {
    unsigned char c = *p;
    if (c >= 0x20 && c < 0x7F) {
      ++p;
      continue;
    }
    llvm::SMLoc loc =
        llvm::SMLoc::getFromPointer(reinterpret_cast<const char*>(p));
    if (c == 0) {
      diags.report(loc, DiagKind::BinaryFile);
      return false;
    }
    if (c < 0x80) {
      if (c == '\t' || c == '\n' || c == '\r') {
        ++p;
        continue;
      }
      diags.report(loc, DiagKind::ControlCharacter, unsigned(c));
      return false;
    }
    std::size_t n = utf8SequenceLength(p, e);
    if (n == 0) {
      diags.report(loc, DiagKind::InvalidUtf8, unsigned(c));
      return false;
    }
    p += n;
  }
  return true;
}

}  // namespace

class Builder : public YAML::EventHandler {
 public:
  Builder(Document& doc, const char* base, const char* end,
          ir::DiagnosticEngine& diags, const Limits& limits)
      : doc_(doc), base_(base), end_(end), diags_(diags), limits_(limits) {}

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    Node* n = make(Node::Kind::Null, mark);
    n->range.End = n->range.Start;
    finish(n, anchor);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) {
      diags_.report(loc(mark), DiagKind::YamlSyntax, "unknown anchor");
      throw AbortParse{};
    }
    Node* target = it->second.first;
    expanded_ += it->second.second;
    if (expanded_ > limits_.max_alias_expansion) {
      diags_.report(loc(mark), DiagKind::AliasExpansionTooLarge,
                    limits_.max_alias_expansion);
      throw AbortParse{};
    }
    attach(target, weightOf(target));
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag,
                YAML::anchor_t anchor, const std::string& value) override {
    Node* n = make(Node::Kind::Scalar, mark);
    n->value = value;
    const char* p = n->range.Start.getPointer();
    bool quoted_token = p < end_ && (*p == '"' || *p == '\'');
    bool block_token = p < end_ && (*p == '|' || *p == '>');
    n->plain = tag == "?" && !quoted_token && !block_token;
    setTag(n, tag);
    if (n->tag == "tag:yaml.org,2002:str") n->plain = false;
    n->range.End = llvm::SMLoc::getFromPointer(scalarEnd(p, value));
    finish(n, anchor);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag,
                       YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    Node* n = make(Node::Kind::Sequence, mark);
    setTag(n, tag);
    push(n, anchor);
  }
  void OnSequenceEnd() override { pop(); }

  void OnMapStart(const YAML::Mark& mark, const std::string& tag,
                  YAML::anchor_t anchor, YAML::EmitterStyle::value) override {
    Node* n = make(Node::Kind::Mapping, mark);
    setTag(n, tag);
    push(n, anchor);
  }
  void OnMapEnd() override {
    Node* map = stack_.back().node;
    mergeKeys(map);
    checkDuplicateKeys(map);
    pop();
  }

  Node* root() const { return root_; }

 private:
  struct Frame {
    Node* node;
    YAML::anchor_t anchor;
    Node* pending_key = nullptr;
    std::uint64_t weight = 1;
  };

  llvm::SMLoc loc(const YAML::Mark& mark) const {
    return markLoc(base_, end_, mark);
  }

  Node* make(Node::Kind kind, const YAML::Mark& mark) {
    doc_.arena_.emplace_back();
    Node* n = &doc_.arena_.back();
    n->kind = kind;
    n->range.Start = loc(mark);
    n->range.End = n->range.Start;
    return n;
  }

  // Keeps an explicit tag; only the core schema's are allowed: others ask a
  // loader to build objects (!!python/object/apply) or binary data.
  void setTag(Node* n, const std::string& tag) {
    if (tag == "?" || tag == "!") return;
    n->tag = tag;
    constexpr llvm::StringLiteral kCore = "tag:yaml.org,2002:";
    llvm::StringRef t(tag);
    if (t.startswith(kCore) &&
        llvm::is_contained(
            std::initializer_list<llvm::StringRef>{
                "str", "int", "float", "bool", "null", "seq", "map"},
            t.drop_front(kCore.size())))
      return;
    std::string shown =
        t.startswith(kCore) ? "!!" + t.drop_front(kCore.size()).str() : tag;
    diags_.report(n->range.Start, DiagKind::UnsupportedTag, shown);
  }

  const char* scalarEnd(const char* p, const std::string& value) const {
    if (p >= end_) return p;
    if (*p == '"') {
      for (const char* q = p + 1; q < end_; ++q) {
        if (*q == '\\') {
          ++q;
          continue;
        }
        if (*q == '"') return q + 1;
      }
      return p + 1;
    }
    if (*p == '\'') {
      for (const char* q = p + 1; q < end_; ++q) {
        if (*q == '\'') {
          if (q + 1 < end_ && q[1] == '\'') {
            ++q;
            continue;
          }
          return q + 1;
        }
      }
      return p + 1;
    }
    if (*p == '|' || *p == '>') return p + 1;
    // Plain: the value as written when it is on one line, else the first line.
    std::size_t n = value.size();
    if (std::size_t(end_ - p) >= n && llvm::StringRef(p, n) == value)
      return p + n;
    const char* q = p;
    while (q < end_ && *q != '\n' && *q != '\r') ++q;
    return q;
  }

  std::uint64_t weightOf(Node* n) const {
    auto it = weights_.find(n);
    return it == weights_.end() ? 1 : it->second;
  }

  void registerAnchor(YAML::anchor_t anchor, Node* n, std::uint64_t w) {
    if (anchor) anchors_[anchor] = {n, w};
    if (w > 1) weights_[n] = w;
  }

  void finish(Node* n, YAML::anchor_t anchor) {
    registerAnchor(anchor, n, 1);
    attach(n, 1);
  }

  void push(Node* n, YAML::anchor_t anchor) {
    if (stack_.size() >= limits_.max_depth) {
      diags_.report(n->range.Start, DiagKind::NestingTooDeep,
                    limits_.max_depth);
      throw AbortParse{};
    }
    stack_.push_back({n, anchor});
  }

  void pop() {
    Frame f = stack_.back();
    stack_.pop_back();
    registerAnchor(f.anchor, f.node, f.weight);
    attach(f.node, f.weight);
  }

  void attach(Node* n, std::uint64_t weight) {
    if (stack_.empty()) {
      if (!root_) root_ = n;
      return;
    }
    Frame& parent = stack_.back();
    parent.weight += weight;
    if (parent.weight > (1ull << 62)) parent.weight = 1ull << 62;
    if (parent.node->kind == Node::Kind::Sequence) {
      parent.node->items.push_back(n);
    } else if (!parent.pending_key) {
      parent.pending_key = n;
    } else {
      parent.node->entries.emplace_back(parent.pending_key, n);
      parent.pending_key = nullptr;
    }
  }

  // YAML 1.1 merge keys (`<<: *base`): entries not already present are added.
  void mergeKeys(Node* map) {
    bool has_merge = false;
    for (const auto& [k, v] : map->entries)
      has_merge |=
          k->kind == Node::Kind::Scalar && k->plain && k->value == "<<";
    if (!has_merge) return;
    std::vector<std::pair<Node*, Node*>> own, merged;
    for (const auto& e : map->entries) {
      if (e.first->kind == Node::Kind::Scalar && e.first->plain &&
          e.first->value == "<<") {
        std::vector<Node*> sources;
        if (e.second->isMap())
          sources.push_back(e.second);
        else if (e.second->isSeq())
          sources = e.second->items;
        for (Node* src : sources) {
          if (!src->isMap()) {
            diags_.report(src->range, DiagKind::YamlSyntax,
                          "a merge key '<<' needs a mapping or a sequence of "
                          "mappings");
            continue;
          }
          for (const auto& se : src->entries) merged.push_back(se);
        }
        if (sources.empty())
          diags_.report(e.second->range, DiagKind::YamlSyntax,
                        "a merge key '<<' needs a mapping or a sequence of "
                        "mappings");
      } else {
        own.push_back(e);
      }
    }
    for (const auto& m : merged) {
      bool present = false;
      if (m.first->isScalar())
        for (const auto& o : own)
          present |= o.first->isScalar() && o.first->value == m.first->value;
      if (!present) own.push_back(m);
    }
    map->entries = std::move(own);
  }

  // Reports every repeated scalar key and keeps only its first entry, so
  // later stages see each key once.
  void checkDuplicateKeys(Node* map) {
    auto& entries = map->entries;
    std::vector<bool> dropped(entries.size(), false);
    bool any = false;
    auto report = [&](std::size_t dup, const Node* first) {
      const Node* k = entries[dup].first;
      diags_.report(k->range, DiagKind::DuplicateKey, k->value)
          .note(first->range, "first defined here");
      dropped[dup] = any = true;
    };
    if (entries.size() <= 16) {
      for (std::size_t i = 1; i < entries.size(); ++i) {
        const Node* k = entries[i].first;
        if (!k->isScalar()) continue;
        for (std::size_t j = 0; j < i; ++j) {
          const Node* o = entries[j].first;
          if (!dropped[j] && o->isScalar() && o->value == k->value) {
            report(i, o);
            break;
          }
        }
      }
    } else {
      llvm::StringMap<const Node*> seen;
      for (std::size_t i = 0; i < entries.size(); ++i) {
        const Node* k = entries[i].first;
        if (!k->isScalar()) continue;
        auto [it, inserted] = seen.try_emplace(k->value, k);
        if (!inserted) report(i, it->second);
      }
    }
    if (!any) return;
    std::size_t out = 0;
    for (std::size_t i = 0; i < entries.size(); ++i)
      if (!dropped[i]) entries[out++] = entries[i];
    entries.resize(out);
  }

  Document& doc_;
  const char* base_;
  const char* end_;
  ir::DiagnosticEngine& diags_;
  const Limits& limits_;
  std::vector<Frame> stack_;
  Node* root_ = nullptr;
  llvm::DenseMap<YAML::anchor_t, std::pair<Node*, std::uint64_t>> anchors_;
  llvm::DenseMap<const Node*, std::uint64_t> weights_;
  std::uint64_t expanded_ = 0;
};

std::unique_ptr<Document> parse(const llvm::SourceMgr& sm, unsigned buffer_id,
                                ir::DiagnosticEngine& diags,
                                const Limits& limits) {
  const llvm::MemoryBuffer* buf = sm.getMemoryBuffer(buffer_id);
  const char* begin = buf->getBufferStart();
  const char* end = buf->getBufferEnd();
  if (!checkBytes(begin, end, diags)) return nullptr;
  // yaml-cpp skips a byte order mark; feed it what follows so that its
  // positions are byte offsets from `base`.
  const char* base = begin;
  if (end - begin >= 3 && llvm::StringRef(begin, 3) == "\xEF\xBB\xBF")
    base += 3;

  auto doc = std::make_unique<Document>();
  MemoryStreamBuf sbuf(base, end);
  std::istream in(&sbuf);
  Builder builder(*doc, base, end, diags, limits);
  try {
    YAML::Parser parser(in);
    if (!parser.HandleNextDocument(builder)) {
      diags.report(llvm::SMLoc::getFromPointer(begin), DiagKind::EmptyFile);
      return nullptr;
    }
    doc->root_ = builder.root();
    // A second document is ignored, loudly.
    Document extra;
    Builder rest(extra, base, end, diags, limits);
    std::size_t before = extra.arena_.size();
    if (parser.HandleNextDocument(rest) && rest.root() &&
        extra.arena_.size() > before)
      diags.report(rest.root()->range.Start, DiagKind::ExtraDocument);
  } catch (const AbortParse&) {
    return nullptr;
  } catch (const YAML::DeepRecursion& e) {
    diags.report(markLoc(base, end, e.mark), DiagKind::NestingTooDeep,
                 limits.max_depth);
    return nullptr;
  } catch (const YAML::ParserException& e) {
    std::string msg = e.msg;
    diags.report(markLoc(base, end, e.mark), DiagKind::YamlSyntax, msg);
    return nullptr;
  } catch (const YAML::Exception& e) {
    diags.report(markLoc(base, end, e.mark), DiagKind::YamlSyntax, e.msg);
    return nullptr;
  } catch (const std::exception& e) {
    diags.report(llvm::SMLoc::getFromPointer(begin), DiagKind::YamlSyntax,
                 e.what());
    return nullptr;
  }
  if (!doc->root_) {
    diags.report(llvm::SMLoc::getFromPointer(begin), DiagKind::EmptyFile);
    return nullptr;
  }
  return doc;
}

}  // namespace pipec::frontend::yaml
