// The test oracle for pipec's YAML reader: the located tree built from
// yaml-cpp's events (pipec's reader before it moved to LLVM's parser), and a
// comparison of two trees that names each known difference.
#include "test/fuzz/yaml_cpp_oracle.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/parser.h>

#include <istream>
#include <streambuf>

#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/MemoryBuffer.h"

namespace pipec::test::yaml_oracle {

using ir::DiagKind;
namespace diag = ir::diag;
using ir::yaml::Document;
using ir::yaml::Limits;
using ir::yaml::Node;

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
      diags_.report(loc(mark), diag::YamlSyntax, "unknown anchor");
      throw AbortParse{};
    }
    Node* target = it->second.first;
    expanded_ += it->second.second;
    if (expanded_ > limits_.max_alias_expansion) {
      diags_.report(loc(mark), diag::AliasExpansionTooLarge,
                    limits_.max_alias_expansion);
      throw AbortParse{};
    }
    attach(target, weightOf(target));
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag,
                YAML::anchor_t anchor, const std::string& value) override {
    Node* n = make(Node::Kind::Scalar, mark);
    n->value = doc_.save(value);
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
  void OnSequenceEnd() override {
    Node* seq = stack_.back().node;
    seq->items = doc_.save(llvm::ArrayRef<Node*>(stack_.back().items));
    pop();
  }

  void OnMapStart(const YAML::Mark& mark, const std::string& tag,
                  YAML::anchor_t anchor, YAML::EmitterStyle::value) override {
    Node* n = make(Node::Kind::Mapping, mark);
    setTag(n, tag);
    push(n, anchor);
  }
  void OnMapEnd() override {
    Node* map = stack_.back().node;
    map->entries = doc_.save(llvm::ArrayRef<Entry>(stack_.back().entries));
    ir::yaml::applyMergeKeys(doc_, map, diags_);
    ir::yaml::dropDuplicateKeys(map, diags_);
    pop();
  }

  Node* root() const { return root_; }

 private:
  using Entry = std::pair<Node*, Node*>;
  /// A collection being read; its children go to the node at its end.
  struct Frame {
    Node* node;
    YAML::anchor_t anchor;
    Node* pending_key = nullptr;
    std::uint64_t weight = 1;
    std::vector<Node*> items;
    std::vector<Entry> entries;
  };

  llvm::SMLoc loc(const YAML::Mark& mark) const {
    return markLoc(base_, end_, mark);
  }

  Node* make(Node::Kind kind, const YAML::Mark& mark) {
    Node* n = doc_.newNode();
    n->kind = kind;
    n->range.Start = loc(mark);
    n->range.End = n->range.Start;
    return n;
  }

  // Keeps an explicit tag (with the reader's rule on which are allowed).
  void setTag(Node* n, const std::string& tag) {
    if (tag == "?" || tag == "!") return;
    ir::yaml::setCheckedTag(n, doc_.save(tag), diags_);
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
      diags_.report(n->range.Start, diag::NestingTooDeep, limits_.max_depth);
      throw AbortParse{};
    }
    stack_.push_back({n, anchor, nullptr, 1, {}, {}});
  }

  void pop() {
    Frame f = std::move(stack_.back());
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
      parent.items.push_back(n);
    } else if (!parent.pending_key) {
      parent.pending_key = n;
    } else {
      parent.entries.emplace_back(parent.pending_key, n);
      parent.pending_key = nullptr;
    }
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
  if (!ir::yaml::checkBytes(begin, end, limits.max_repeated_separators, diags))
    return nullptr;
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
      diags.report(llvm::SMLoc::getFromPointer(begin), diag::EmptyFile);
      return nullptr;
    }
    doc->root_ = builder.root();
    // A second document is ignored, loudly.
    Document extra;
    Builder rest(extra, base, end, diags, limits);
    std::size_t before = extra.nodeCount();
    if (parser.HandleNextDocument(rest) && rest.root() &&
        extra.nodeCount() > before)
      diags.report(rest.root()->range.Start, diag::ExtraDocument);
  } catch (const AbortParse&) {
    return nullptr;
  } catch (const YAML::DeepRecursion& e) {
    diags.report(markLoc(base, end, e.mark), diag::NestingTooDeep,
                 limits.max_depth);
    return nullptr;
  } catch (const YAML::ParserException& e) {
    std::string msg = e.msg;
    diags.report(markLoc(base, end, e.mark), diag::YamlSyntax, msg);
    return nullptr;
  } catch (const YAML::Exception& e) {
    diags.report(markLoc(base, end, e.mark), diag::YamlSyntax, e.msg);
    return nullptr;
  } catch (const std::exception& e) {
    diags.report(llvm::SMLoc::getFromPointer(begin), diag::YamlSyntax,
                 e.what());
    return nullptr;
  }
  if (!doc->root_) {
    diags.report(llvm::SMLoc::getFromPointer(begin), diag::EmptyFile);
    return nullptr;
  }
  return doc;
}

namespace {

std::string where(const llvm::SourceMgr& sm, llvm::SMLoc loc) {
  if (!loc.isValid()) return "?";
  auto lc = sm.getLineAndColumn(loc);
  return std::to_string(lc.first) + ":" + std::to_string(lc.second);
}

const char* kindText(Node::Kind k) {
  switch (k) {
    case Node::Kind::Null:
      return "null";
    case Node::Kind::Scalar:
      return "scalar";
    case Node::Kind::Sequence:
      return "sequence";
    case Node::Kind::Mapping:
      return "mapping";
  }
  return "?";
}

llvm::StringRef rtrimSpace(llvm::StringRef s) { return s.rtrim(" \t\r\n"); }

// yaml-cpp's defects at the end of a scalar, each checked against YAML 1.2
// and PyYAML: it drops line breaks before the closing quote of a multi-line
// quoted scalar ('x\n\n\n' is "x\n\n", yaml-cpp says "x\n"), drops one
// of the kept empty lines of a `>+` scalar, and keeps the blanks of a last
// blank line that ends the file inside a block scalar. Both readers agree
// once trailing white space is set aside, and the scalar's text ends in
// empty or blank lines.
bool trailingWhitespaceDefect(const Node* r, llvm::StringRef oracle_value,
                              const char* buffer_end) {
  if (rtrimSpace(oracle_value) != rtrimSpace(r->value)) return false;
  llvm::StringRef text(
      r->range.Start.getPointer(),
      std::size_t(r->range.End.getPointer() - r->range.Start.getPointer()));
  if (text.empty()) return false;
  char open = text.front();
  if (open == '"' || open == '\'') {
    llvm::StringRef inner = text.drop_front().drop_back();
    llvm::StringRef tail = inner.drop_front(rtrimSpace(inner).size());
    return tail.count('\n') >= 2;
  }
  if (open == '|' || open == '>') {
    llvm::StringRef header =
        text.take_until([](char c) { return c == '\n' || c == '#'; });
    bool keep = header.contains('+');
    bool ends_file_in_blanks =
        r->range.End.getPointer() == buffer_end &&
        (buffer_end[-1] == ' ' || buffer_end[-1] == '\t');
    return keep || ends_file_in_blanks;
  }
  return false;
}

class TreeCompare {
 public:
  TreeCompare(const llvm::SourceMgr& sm, const char* buffer_end)
      : sm_(sm), buffer_end_(buffer_end) {}

  std::string compare(const Node* o, const Node* r) {
    if (!o || !r) return o == r ? "" : "one tree has no node";
    auto [it, inserted] = seen_.try_emplace(o, r);
    if (!inserted)
      return it->second == r ? "" : at(r) + "an alias points elsewhere";
    if (o->kind != r->kind)
      return at(r) + "kind " + kindText(o->kind) + " (yaml-cpp) vs " +
             kindText(r->kind);
    if (o->range.Start != r->range.Start)
      return at(r) + "starts at " + where(sm_, o->range.Start) + " (yaml-cpp)";
    const char* start = r->range.Start.getPointer();
    bool has_property = *start == '&' || *start == '!';
    if (r->isScalar()) {
      if (o->value != r->value &&
          !trailingWhitespaceDefect(r, o->value, buffer_end_))
        return at(r) + "value '" + o->value.str() + "' (yaml-cpp) vs '" +
               r->value.str() + "'";
      // yaml-cpp's builder tells plain from quoted by the character at the
      // node's start, which is the `&` of an anchored scalar.
      bool oracle_style_known = *start != '&';
      if (oracle_style_known && o->plain != r->plain)
        return at(r) + (r->plain ? "plain" : "not plain") +
               " vs the opposite (yaml-cpp)";
      bool block = *start == '|' || *start == '>';
      bool one_line =
          llvm::StringRef(start, std::size_t(r->range.End.getPointer() - start))
              .find_first_of("\r\n") == llvm::StringRef::npos;
      if (!has_property && !block && one_line && o->range.End != r->range.End)
        return at(r) + "ends at " + where(sm_, r->range.End) + " vs " +
               where(sm_, o->range.End) + " (yaml-cpp)";
    }
    if (o->tag != r->tag)
      return at(r) + "tag '" + o->tag.str() + "' (yaml-cpp) vs '" +
             r->tag.str() + "'";
    if (o->items.size() != r->items.size())
      return at(r) + std::to_string(r->items.size()) + " items vs " +
             std::to_string(o->items.size()) + " (yaml-cpp)";
    if (o->entries.size() != r->entries.size())
      return at(r) + std::to_string(r->entries.size()) + " entries vs " +
             std::to_string(o->entries.size()) + " (yaml-cpp)";
    for (std::size_t i = 0; i < o->items.size(); ++i)
      if (std::string d = compare(o->items[i], r->items[i]); !d.empty())
        return d;
    for (std::size_t i = 0; i < o->entries.size(); ++i) {
      // yaml-cpp reads an empty explicit key (`?` alone on its line) and the
      // `: value` below it as the key {null: value} with a null value;
      // YAML 1.2 and PyYAML read the key null with that value.
      const Node* ok = o->entries[i].first;
      const Node* ov = o->entries[i].second;
      if (r->entries[i].first->isNull() && ok->isMap() &&
          ok->entries.size() == 1 && ok->entries[0].first->isNull() &&
          ov->isNull()) {
        if (std::string d =
                compare(ok->entries[0].second, r->entries[i].second);
            !d.empty())
          return d;
        continue;
      }
      if (std::string d = compare(o->entries[i].first, r->entries[i].first);
          !d.empty())
        return d;
      if (std::string d = compare(o->entries[i].second, r->entries[i].second);
          !d.empty())
        return d;
    }
    return "";
  }

 private:
  std::string at(const Node* n) {
    return where(sm_, n->range.Start) + ": " + kindText(n->kind) + ": ";
  }

  const llvm::SourceMgr& sm_;
  const char* buffer_end_;
  llvm::DenseMap<const Node*, const Node*> seen_;
};

std::string describe(const ir::StoringDiagnosticConsumer& c,
                     const llvm::SourceMgr& sm) {
  std::string out;
  for (const ir::Diagnostic& d : c.diags)
    if (d.severity == ir::Severity::Error)
      out += std::string(out.empty() ? "" : "; ") + d.code() + " at " +
             where(sm, d.range.Start) + " " + d.message;
  return out.empty() ? "accepted" : out;
}

// Whether `at` is the first text of its line.
bool firstOnLine(const char* at, const char* begin) {
  const char* p = at;
  while (p > begin && (p[-1] == ' ' || p[-1] == '\t')) --p;
  return p == begin || p[-1] == '\n' || p[-1] == '\r';
}

// What the reader refuses and yaml-cpp accepts, on purpose: limits only the
// reader has (bytes expanded through aliases, separators in a row), empty
// entries of flow collections (`[a,,b]`), which YAML does not allow and
// yaml-cpp reads as nulls, a line starting with '%' inside a document,
// which yaml-cpp reads as text (YAML: a directive, only before '---'), a
// quoted scalar that the end of a line and of the file leave open, and a
// line of text without ':' where a key must be (alone, or running on into
// the next lines), or text on the line after a key at the key's column
// (yaml-cpp reads either as a key without ':' or as more of the scalar before;
// PyYAML refuses both).
bool readerOnlyRefusal(const ir::StoringDiagnosticConsumer& c,
                       const char* buffer_begin) {
  for (const ir::Diagnostic& d : c.diags) {
    if (d.severity != ir::Severity::Error) continue;
    if (d.kind == DiagKind::YamlSyntax &&
        (llvm::StringRef(d.message).endswith("expected ':' after the key") ||
         llvm::StringRef(d.message).contains("a key must be on one line")) &&
        firstOnLine(d.range.Start.getPointer(), buffer_begin))
      return true;
    if (d.kind == DiagKind::YamlSyntax &&
        llvm::StringRef(d.message).contains("must be indented more than"))
      return true;
    // LLVM's parser refuses an entry with an empty key (`: value` at the
    // start of a line of a block mapping, YAML 1.2 example 8.18), which
    // yaml-cpp reads; pipec refuses such a key anyway (E0114).
    if (d.kind == DiagKind::YamlSyntax &&
        llvm::StringRef(d.message).endswith(
            "expected a key or the end of the mapping") &&
        *d.range.Start.getPointer() == ':' &&
        firstOnLine(d.range.Start.getPointer(), buffer_begin))
      return true;
    if (d.kind == DiagKind::AliasBytesTooLarge ||
        d.kind == DiagKind::RepeatedSeparator ||
        (d.kind == DiagKind::YamlSyntax &&
         (llvm::StringRef(d.message).endswith(
              "a ',' with no entry before it") ||
          llvm::StringRef(d.message).contains("a directive ('%') inside") ||
          llvm::StringRef(d.message).endswith(
              "a quoted scalar is not closed"))))
      return true;
  }
  return false;
}

// What yaml-cpp refuses while YAML 1.2 allows it: a '?' inside a plain
// scalar in a flow collection (`{default?: 1}`; YAML 1.1 and PyYAML refuse
// it too), reported at the '?'.
bool oracleOnlyRefusal(const ir::StoringDiagnosticConsumer& c) {
  for (const ir::Diagnostic& d : c.diags) {
    if (d.severity != ir::Severity::Error) continue;
    const char* at = d.range.Start.getPointer();
    return d.kind == DiagKind::YamlSyntax && at && *at == '?' &&
           llvm::StringRef(d.message).endswith("unknown token") &&
           at[-1] != ' ' && at[-1] != '\t' && at[-1] != '\n';
  }
  return false;
}

}  // namespace

std::string compareReaders(llvm::StringRef text) {
  llvm::SourceMgr sm;
  sm.AddNewSourceBuffer(llvm::MemoryBuffer::getMemBufferCopy(text, "in.yaml"),
                        llvm::SMLoc());
  ir::StoringDiagnosticConsumer oracle_diags, reader_diags;
  ir::DiagnosticEngine oracle_engine(sm, oracle_diags);
  ir::DiagnosticEngine reader_engine(sm, reader_diags);
  auto o = parse(sm, 1, oracle_engine);
  auto r = ir::yaml::parse(sm, 1, reader_engine);
  bool o_ok = o && !oracle_engine.hasErrors();
  bool r_ok = r && !reader_engine.hasErrors();
  if (o_ok && !r_ok &&
      readerOnlyRefusal(reader_diags, sm.getMemoryBuffer(1)->getBufferStart()))
    return "";
  if (!o_ok && r_ok && oracleOnlyRefusal(oracle_diags)) return "";
  if (o_ok != r_ok)
    return "yaml-cpp: " + describe(oracle_diags, sm) +
           "; reader: " + describe(reader_diags, sm);
  if (!o_ok) return "";
  return TreeCompare(sm, sm.getMemoryBuffer(1)->getBufferEnd())
      .compare(o->root(), r->root());
}

}  // namespace pipec::test::yaml_oracle
