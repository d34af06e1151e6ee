// Builds the located YAML tree from LLVM's YAML parser (llvm::yaml::Stream),
// guarding it against input that would make it recurse without bound.
#include "ir/yaml_reader.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/ConvertUTF.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/YAMLParser.h"

namespace pipec::ir::yaml {

const Node* Node::get(llvm::StringRef key) const {
  for (const auto& [k, v] : entries)
    if (k->kind == Kind::Scalar && k->value == key) return v;
  return nullptr;
}

Node* Document::newNode() {
  ++count_;
  return new (arena_.Allocate<Node>()) Node();
}

llvm::StringRef Document::save(llvm::StringRef text) {
  if (text.empty()) return {};
  char* out = arena_.Allocate<char>(text.size());
  std::memcpy(out, text.data(), text.size());
  return {out, text.size()};
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

bool isBlank(char c) { return c == ' ' || c == '\t'; }
bool isBreak(char c) { return c == '\n' || c == '\r'; }

// Eight bytes at a time (SWAR): each byte of kOnes * c is c.
constexpr std::uint64_t kOnes = 0x0101010101010101ull;
constexpr std::uint64_t kHighs = 0x8080808080808080ull;
// Nonzero when a byte of `v` is zero.
constexpr std::uint64_t zeroByte(std::uint64_t v) {
  return (v - kOnes) & ~v & kHighs;
}
std::uint64_t load8(const void* p) {
  std::uint64_t x;
  std::memcpy(&x, p, 8);
  return x;
}

// Whether `s` holds one of the bytes a, b, c.
bool holdsAny(llvm::StringRef s, char a, char b, char c) {
  const char* p = s.data();
  const char* e = p + s.size();
  for (; e - p >= 8; p += 8) {
    std::uint64_t x = load8(p);
    if (zeroByte(x ^ (kOnes * std::uint8_t(a))) |
        zeroByte(x ^ (kOnes * std::uint8_t(b))) |
        zeroByte(x ^ (kOnes * std::uint8_t(c))))
      return true;
  }
  for (; p < e; ++p)
    if (*p == a || *p == b || *p == c) return true;
  return false;
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

}  // namespace

// One pass over the bytes before LLVM's parser sees them: reports the first
// byte YAML does not allow (NUL, control characters, invalid UTF-8), and runs
// of separators that LLVM's parser handles by recursing once per separator
// (`,` after `,` in a flow collection: MappingNode/SequenceNode::increment;
// `...` after `...`: Document::skip), which would overflow the stack. Commas
// in comments do not count; commas inside scalars do, which refuses only
// scalars holding more than `max_run` commas in a row. Returns false if
// anything was reported.
bool checkBytes(const char* begin, const char* end, unsigned max_run,
                DiagnosticEngine& diags) {
  auto* p = reinterpret_cast<const unsigned char*>(begin);
  auto* e = reinterpret_cast<const unsigned char*>(end);
  unsigned commas = 0, doc_ends = 0;
  bool line_start = true, in_comment = false, after_blank = true;
  // Bytes that need no more than the run bookkeeping below: printable ASCII
  // other than `,` and `#` (1), and the space (2).
  static constexpr auto kPlain = [] {
    std::array<std::uint8_t, 256> t{};
    for (int c = 0x21; c < 0x7F; ++c) t[c] = 1;
    t[','] = t['#'] = 0;
    t[' '] = 2;
    return t;
  }();
  while (p < e) {
    if (!line_start && kPlain[*p]) {
      // The common case, a byte at a time without the general checks.
      bool text = false;
      const unsigned char* q = p;
      // Eight bytes at a time while all are plain (SWAR: no byte below
      // 0x20 or above 0x7E, none is ',' or '#'), then a byte at a time.
      while (e - q >= 8) {
        std::uint64_t x = load8(q);
        std::uint64_t below = (x - kOnes * 0x20) & ~x & kHighs;
        std::uint64_t above = ((x + kOnes * (127 - 0x7E)) | x) & kHighs;
        if (below | above | zeroByte(x ^ (kOnes * ',')) |
            zeroByte(x ^ (kOnes * '#')))
          break;
        text |= x != kOnes * ' ';
        q += 8;
      }
      for (std::uint8_t k; q < e && (k = kPlain[*q]) != 0; ++q) text |= k == 1;
      after_blank = q[-1] == ' ';
      if (text && !in_comment) commas = 0;
      p = q;
      continue;
    }
    unsigned char c = *p;
    if (line_start) {
      line_start = false;
      if (c == '.' && e - p >= 3 && p[1] == '.' && p[2] == '.' &&
          (e - p == 3 || p[3] == ' ' || p[3] == '\t' || p[3] == '\n' ||
           p[3] == '\r')) {
        if (++doc_ends > max_run) {
          diags.report(
              llvm::SMLoc::getFromPointer(reinterpret_cast<const char*>(p)),
              diag::RepeatedSeparator, "...", max_run);
          return false;
        }
      } else if (c != ' ' && c != '\t' && c != '#' && c != '\n' && c != '\r') {
        doc_ends = 0;
      }
    }
    if (c >= 0x20 && c < 0x7F) {
      if (!in_comment) {
        if (c == ',') {
          if (++commas > max_run) {
            diags.report(
                llvm::SMLoc::getFromPointer(reinterpret_cast<const char*>(p)),
                diag::RepeatedSeparator, ",", max_run);
            return false;
          }
        } else if (c == '#' && after_blank) {
          in_comment = true;
        } else if (c != ' ') {
          commas = 0;
        }
      }
      after_blank = c == ' ';
      ++p;
      continue;
    }
    llvm::SMLoc loc =
        llvm::SMLoc::getFromPointer(reinterpret_cast<const char*>(p));
    if (c == 0) {
      diags.report(loc, diag::BinaryFile);
      return false;
    }
    if (c < 0x80) {
      if (c == '\r' && (e - p == 1 || p[1] != '\n')) {
        // YAML reads it as a line break; LLVM's parser and yaml-cpp each
        // read it their own way (inside a comment, one ends the comment and
        // the other does not), so no reading of it can be trusted.
        diags.report(loc, diag::LoneCarriageReturn);
        return false;
      }
      if (c == '\t' || c == '\n' || c == '\r') {
        if (c != '\t') {
          line_start = true;
          in_comment = false;
        }
        after_blank = true;
        ++p;
        continue;
      }
      diags.report(loc, diag::ControlCharacter, c);
      return false;
    }
    std::size_t n = utf8SequenceLength(p, e);
    if (n == 0) {
      diags.report(loc, diag::InvalidUtf8, c);
      return false;
    }
    if (n == 3 && c == 0xEF && p[1] == 0xBB && p[2] == 0xBF &&
        p != reinterpret_cast<const unsigned char*>(begin)) {
      // Not text in YAML 1.2 (nb-char excludes it); LLVM's parser stops
      // on it with a message that does not name it.
      diags.report(loc, diag::ByteOrderMarkInside);
      return false;
    }
    if (!in_comment) commas = 0;
    after_blank = false;
    p += n;
  }
  return true;
}

void setCheckedTag(Node* n, llvm::StringRef tag, DiagnosticEngine& diags) {
  constexpr llvm::StringLiteral kCore = "tag:yaml.org,2002:";
  n->tag = tag;
  llvm::StringRef t = tag;
  if (t.startswith(kCore) &&
      llvm::is_contained(
          std::initializer_list<llvm::StringRef>{"str", "int", "float", "bool",
                                                 "null", "seq", "map"},
          t.drop_front(kCore.size())))
    return;
  std::string shown =
      t.startswith(kCore) ? "!!" + t.drop_front(kCore.size()).str() : t.str();
  diags.report(n->range.Start, diag::UnsupportedTag, shown);
}

// YAML 1.1 merge keys (`<<: *base`): entries not already present are added.
void applyMergeKeys(Document& doc, Node* map, DiagnosticEngine& diags) {
  bool has_merge = false;
  for (const auto& [k, v] : map->entries)
    has_merge |= k->kind == Node::Kind::Scalar && k->plain && k->value == "<<";
  if (!has_merge) return;
  std::vector<std::pair<Node*, Node*>> own, merged;
  for (const auto& e : map->entries) {
    if (e.first->kind == Node::Kind::Scalar && e.first->plain &&
        e.first->value == "<<") {
      llvm::ArrayRef<Node*> sources;
      if (e.second->isMap())
        sources = llvm::ArrayRef<Node*>(e.second);
      else if (e.second->isSeq())
        sources = e.second->items;
      for (Node* src : sources) {
        if (!src->isMap()) {
          diags.report(src->range, diag::YamlSyntax,
                       "a merge key '<<' needs a mapping or a sequence of "
                       "mappings");
          continue;
        }
        for (const auto& se : src->entries) merged.push_back(se);
      }
      if (sources.empty())
        diags.report(e.second->range, diag::YamlSyntax,
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
  map->entries = doc.save(llvm::ArrayRef<std::pair<Node*, Node*>>(own));
}

// Reports every repeated scalar key and keeps only its first entry, so
// later stages see each key once.
void dropDuplicateKeys(Node* map, DiagnosticEngine& diags) {
  auto& entries = map->entries;
  std::vector<bool> dropped(entries.size(), false);
  bool any = false;
  auto report = [&](std::size_t dup, const Node* first) {
    const Node* k = entries[dup].first;
    diags.report(k->range, diag::DuplicateKey, k->value)
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
  entries = entries.take_front(out);
}

namespace {

// True when the buffer holds only blanks, line breaks and comments (after a
// byte order mark): a stream without any document.
bool isBlankStream(llvm::StringRef text) {
  text.consume_front("\xEF\xBB\xBF");
  while (!text.empty()) {
    text = text.ltrim(" \t\r\n");
    if (text.empty()) break;
    if (text.front() != '#') return false;
    text = text.drop_until([](char c) { return c == '\n' || c == '\r'; });
  }
  return true;
}

// Whether the quoted scalar `raw` ends with its closing quote.
bool closedQuote(llvm::StringRef raw) {
  char q = raw.front();
  for (std::size_t i = 1; i < raw.size(); ++i) {
    if (q == '"' && raw[i] == '\\') {
      ++i;
      continue;
    }
    if (raw[i] != q) continue;
    if (q == '\'' && i + 1 < raw.size() && raw[i + 1] == '\'') {
      ++i;
      continue;
    }
    return i + 1 == raw.size();
  }
  return false;
}

// Whether `s` holds a line break (cheaper than find_first_of on short text).
bool hasBreak(llvm::StringRef s) { return holdsAny(s, '\n', '\r', '\n'); }

// Index past the line break at `i` (\n, \r or \r\n).
std::size_t skipBreak(llvm::StringRef s, std::size_t i) {
  if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') return i + 2;
  return i + 1;
}

// Line folding of plain and single-quoted scalars (YAML 1.2 §6.5, §7.3.2):
// blanks around a line break go, a single break becomes a space, n breaks in
// a row become n-1 newlines. `unquote` turns '' into '.
void foldFlowLines(llvm::StringRef s, bool unquote, std::string& out) {
  auto append = [&](llvm::StringRef part) {
    if (!unquote) {
      out += part;
      return;
    }
    for (std::size_t i = 0; i < part.size(); ++i) {
      out += part[i];
      if (part[i] == '\'' && i + 1 < part.size() && part[i + 1] == '\'') ++i;
    }
  };
  std::size_t i = 0;
  bool first = true;
  unsigned empties = 0;
  while (true) {
    std::size_t eol = s.find_first_of("\r\n", i);
    bool last = eol == llvm::StringRef::npos;
    llvm::StringRef line = s.slice(i, last ? s.size() : eol);
    if (!first) line = line.ltrim(" \t");
    if (!last) line = line.rtrim(" \t");
    if (first) {
      append(line);
      first = false;
    } else if (line.empty() && !last) {
      ++empties;
    } else {
      if (empties)
        out.append(empties, '\n');
      else
        out += ' ';
      append(line);
      empties = 0;
    }
    if (last) break;
    i = skipBreak(s, eol);
  }
}

bool hexValue(llvm::StringRef digits, std::uint32_t& v) {
  v = 0;
  for (char c : digits) {
    unsigned d;
    if (c >= '0' && c <= '9')
      d = unsigned(c - '0');
    else if (c >= 'a' && c <= 'f')
      d = unsigned(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      d = unsigned(c - 'A' + 10);
    else
      return false;
    v = v * 16 + d;
  }
  return true;
}

void appendUtf8(std::uint32_t cp, std::string& out) {
  char buf[UNI_MAX_UTF8_BYTES_PER_CODE_POINT];
  char* p = buf;
  if (llvm::ConvertCodePointToUTF8(cp, p)) out.append(buf, p);
}

// Escapes and line folding of a double-quoted scalar's content (YAML 1.2
// §7.3.1). Blanks before an unescaped line break go; escaped ones stay.
bool unescapeDoubleQuoted(llvm::StringRef s, std::string& out,
                          const char*& error_at, std::string& error) {
  std::size_t keep = 0;  // out[0, keep) holds escaped text: never trimmed
  auto skipPrefix = [&](std::size_t i, bool escaped_break) {
    unsigned empties = 0;
    while (true) {
      std::size_t j = i;
      while (j < s.size() && isBlank(s[j])) ++j;
      if (j < s.size() && isBreak(s[j])) {
        ++empties;
        i = skipBreak(s, j);
        continue;
      }
      i = j;
      break;
    }
    if (empties)
      out.append(empties, '\n');
    else if (!escaped_break)
      out += ' ';
    keep = out.size();
    return i;
  };
  for (std::size_t i = 0; i < s.size();) {
    char c = s[i];
    if (isBreak(c)) {
      while (out.size() > keep && isBlank(out.back())) out.pop_back();
      i = skipPrefix(skipBreak(s, i), false);
      continue;
    }
    if (c != '\\') {
      std::size_t j = s.find_first_of("\\\r\n", i);
      if (j == llvm::StringRef::npos) j = s.size();
      out.append(s.data() + i, j - i);
      i = j;
      continue;
    }
    if (i + 1 >= s.size()) {
      error_at = s.data() + i;
      error = "a '\\' at the end of a double-quoted scalar";
      return false;
    }
    char e = s[i + 1];
    if (isBreak(e)) {
      i = skipPrefix(skipBreak(s, i + 1), true);
      continue;
    }
    std::size_t hex = 0;
    switch (e) {
      // clang-format off
      case '0': out += '\0'; break;
      case 'a': out += '\a'; break;
      case 'b': out += '\b'; break;
      case 't': case '\t': out += '\t'; break;
      case 'n': out += '\n'; break;
      case 'v': out += '\v'; break;
      case 'f': out += '\f'; break;
      case 'r': out += '\r'; break;
      case 'e': out += '\x1B'; break;
      case ' ': out += ' '; break;
      case '"': out += '"'; break;
      case '/': out += '/'; break;
      case '\\': out += '\\'; break;
      case 'N': appendUtf8(0x85, out); break;
      case '_': appendUtf8(0xA0, out); break;
      case 'L': appendUtf8(0x2028, out); break;
      case 'P': appendUtf8(0x2029, out); break;
      case 'x': hex = 2; break;
      case 'u': hex = 4; break;
      case 'U': hex = 8; break;
      // clang-format on
      default:
        error_at = s.data() + i;
        error = "unknown escape sequence '\\" + std::string(1, e) + "'";
        return false;
    }
    i += 2;
    if (hex) {
      std::uint32_t cp;
      if (i + hex > s.size() || !hexValue(s.substr(i, hex), cp) ||
          cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        error_at = s.data() + i - 2;
        error = "escape sequence '\\" + std::string(1, e) + "' needs " +
                std::to_string(hex) + " hex digits of a Unicode code point";
        return false;
      }
      appendUtf8(cp, out);
      i += hex;
    }
    keep = out.size();
  }
  return true;
}

// Folding of a `>` block scalar (YAML 1.2 §8.1.3), which LLVM's parser
// returns as if it were literal (`|`): a line break between two lines that
// do not start with a blank becomes a space, or goes when empty lines follow
// it; breaks next to more-indented lines and the chomped end stay.
std::string foldBlockScalar(llvm::StringRef literal) {
  llvm::StringRef body = literal.rtrim('\n');
  llvm::StringRef tail = literal.drop_front(body.size());
  std::string out;
  out.reserve(literal.size());
  bool have_line = false, prev_indented = false;
  unsigned empties = 0;
  while (true) {
    auto [line, rest] = body.split('\n');
    bool last = line.size() == body.size();
    if (line.empty() && !last) {
      ++empties;
    } else {
      bool indented = !line.empty() && isBlank(line.front());
      if (!have_line)
        out.append(empties, '\n');
      else if (prev_indented || indented || line.empty())
        out.append(empties + 1, '\n');
      else if (empties)
        out.append(empties, '\n');
      else
        out += ' ';
      out += line;
      have_line = true;
      prev_indented = indented;
      empties = 0;
    }
    if (last) break;
    body = rest;
  }
  out += tail;
  return out;
}

bool isNullString(llvm::StringRef s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

// A ':' followed by text (`python:3.10`, `azureml:data:1`, ` :x`): text in a
// plain scalar, also in flow collections (YAML 1.2 §7.3.3), which LLVM's
// parser refuses there ("Found unexpected ':' while scanning a plain
// scalar"). A ':' right after a quote or a closing bracket is JSON-like key
// syntax and stays.
bool isWordColon(llvm::StringRef text, std::size_t i) {
  if (i + 1 >= text.size()) return false;
  char next = text[i + 1];
  if (i > 0) {
    char prev = text[i - 1];
    if (prev == '"' || prev == '\'' || prev == ']' || prev == '}') return false;
  }
  return !isBlank(next) && !isBreak(next) && next != ',' && next != '[' &&
         next != ']' && next != '{' && next != '}';
}

// A character to stand for word colons in the copy LLVM parses: one that the
// text does not hold, so that it maps back to ':' without doubt. 0 when the
// text has no word colon, or holds every candidate.
char wordColonStandIn(llvm::StringRef text) {
  bool any = false;
  for (std::size_t i = text.find(':'); i != llvm::StringRef::npos;
       i = text.find(':', i + 1))
    if (isWordColon(text, i)) {
      any = true;
      break;
    }
  if (!any) return 0;
  // One memchr pass for the first candidate (rarely in the text) instead of
  // a table of every byte.
  for (char c : llvm::StringRef("QZXJKVWqzxjkvwYUGHPFBRTSLMNOEDIAC"
                                "0123456789ybfhgpmtlrsuoneidac^;=+_"))
    if (text.find(c) == llvm::StringRef::npos) return c;
  return 0;
}

}  // namespace

bool scalarValue(llvm::StringRef raw, std::string& out, const char*& error_at,
                 std::string& error) {
  out.clear();
  if (!raw.empty() && raw.front() == '"' && raw.size() >= 2)
    return unescapeDoubleQuoted(raw.drop_front().drop_back(), out, error_at,
                                error);
  if (!raw.empty() && raw.front() == '\'' && raw.size() >= 2) {
    llvm::StringRef in = raw.drop_front().drop_back();
    if (!hasBreak(in) && in.find('\'') == llvm::StringRef::npos)
      out.assign(in.data(), in.size());
    else
      foldFlowLines(in, true, out);
    return true;
  }
  if (!hasBreak(raw))
    out.assign(raw.data(), raw.size());
  else
    foldFlowLines(raw, false, out);
  return true;
}

namespace {

// Walks the nodes of one document as LLVM's parser yields them, building the
// located tree. Collections are iterated to their end before the walk goes
// on, so LLVM never has to skip (recursively) an unread subtree; after an
// error the walk stops and the stream is dropped unread.
class Builder {
 public:
  /// `parsed` is the text LLVM parses: the buffer [begin, end) itself, or a
  /// copy of it of the same length whose word colons are `stand_in`.
  Builder(Document& doc, const char* begin, const char* end, const char* parsed,
          char stand_in, const bool& parse_failed, DiagnosticEngine& diags,
          const Limits& limits)
      : doc_(doc),
        begin_(begin),
        end_(end),
        parsed_(parsed),
        stand_in_(stand_in),
        parse_failed_(parse_failed),
        diags_(diags),
        limits_(limits) {}

  /// Where a node sits in its parent.
  struct Place {
    const char* parent_open = nullptr;  ///< bracket of the flow parent
    const Node* block_key = nullptr;    ///< key, for a block mapping's value
    const Node* block_seq = nullptr;    ///< block sequence holding the item
  };
  /// What a node weighs once aliases are expanded.
  struct Weight {
    std::uint64_t nodes = 1;  ///< nodes reachable, with repetition
    std::uint64_t bytes = 0;  ///< scalar bytes reachable, with repetition
  };
  /// Entries or items that LLVM's parser put inside a node while they belong
  /// to its parent (see misnested()), and what they weigh.
  struct Spill {
    std::vector<std::pair<Node*, Node*>> entries;
    std::vector<Node*> items;
    Weight weight{0, 0};
  };

  /// The tree of `n`, or nullptr after an error that stops the parse.
  Node* build(llvm::yaml::Node* n, unsigned depth, const Place& place,
              Spill* spill) {
    if (aborted_) return nullptr;
    if (auto* alias = llvm::dyn_cast<llvm::yaml::AliasNode>(n)) {
      const char* at = source(alias->getName().data()) - 1;
      if (!checkGap(at, false, place.parent_open != nullptr)) return abort();
      last_was_alias_ = true;
      gap_from_ = at + 1 + alias->getName().size();
      return aliasOf(alias);
    }
    last_was_alias_ = false;
    Node* out = make();
    const char* start = startOf(n, place.parent_open);
    out->range = llvm::SMRange(llvm::SMLoc::getFromPointer(start),
                               llvm::SMLoc::getFromPointer(start));
    if (n->getType() != llvm::yaml::Node::NK_Null &&
        !checkGap(start, false, place.parent_open != nullptr))
      return abort();
    std::uint64_t weight = 1, bytes = 0;
    switch (n->getType()) {
      case llvm::yaml::Node::NK_Null:
        emptyNode(out, n);
        bytes = 0;
        break;
      case llvm::yaml::Node::NK_Scalar: {
        auto* s = llvm::cast<llvm::yaml::ScalarNode>(n);
        if (!scalar(out, s)) return abort();
        bytes = out->value.size();
        gap_from_ = out->range.End.getPointer();
        break;
      }
      case llvm::yaml::Node::NK_BlockScalar: {
        auto* s = llvm::cast<llvm::yaml::BlockScalarNode>(n);
        out->kind = Node::Kind::Scalar;
        std::string value = restored(s->getValue());
        const char* header =
            blockHeaderBefore(source(s->getSourceRange().Start.getPointer()));
        if (header && *header == '>') value = foldBlockScalar(value);
        out->range.End = llvm::SMLoc::getFromPointer(
            source(s->getSourceRange().End.getPointer()));
        // LLVM ends the text with a line break even when the file ends
        // without one after a line of text.
        if (out->range.End.getPointer() == end_ && !value.empty() &&
            value.back() == '\n' &&
            lastLineHasText(source(s->getSourceRange().Start.getPointer())))
          value.pop_back();
        // LLVM's node, which holds the text, goes with the stream.
        out->value = doc_.save(value);
        setTag(out, n);
        bytes = out->value.size();
        gap_from_ = out->range.End.getPointer();
        break;
      }
      case llvm::yaml::Node::NK_Sequence:
      case llvm::yaml::Node::NK_Mapping: {
        if (depth >= limits_.max_depth) {
          diags_.report(out->range.Start, diag::NestingTooDeep,
                        limits_.max_depth);
          return abort();
        }
        setTag(out, n);
        bool is_seq = llvm::isa<llvm::yaml::SequenceNode>(n);
        const char* first = source(n->getSourceRange().Start.getPointer());
        const char* open = openBracketBefore(first);
        if (open == place.parent_open) open = nullptr;
        if (open) gap_from_ = open;
        if (!open && is_seq && place.block_key &&
            sameLine(place.block_key->range.Start.getPointer(), first)) {
          diags_.report(llvm::SMLoc::getFromPointer(first), diag::YamlSyntax,
                        "a block sequence cannot start on the line of its key");
          return abort();
        }
        out->kind = is_seq ? Node::Kind::Sequence : Node::Kind::Mapping;
        // What LLVM read into a misnested node goes to the parent's spill.
        Spill* into = nullptr;
        if (!open && spill && misnested(n, is_seq, first, place)) {
          emptyNode(out, n);
          if (!n->getAnchor().empty())
            anchors_[source(n->getAnchor())] = {out, Weight{}};
          into = spill;
        }
        // Children gather on a stack shared by the whole walk, and are
        // copied to the node once, at their final count.
        std::size_t base =
            into ? 0 : (is_seq ? item_stack_.size() : entry_stack_.size());
        Spill own_spill;
        Weight total{0, 0};
        auto take = [&](Weight w) {
          Weight& to = into ? into->weight : total;
          to.nodes = saturatingAdd(to.nodes, w.nodes);
          to.bytes = saturatingAdd(to.bytes, w.bytes);
        };
        if (is_seq) {
          Place item_place;
          item_place.parent_open = open;
          if (!open) item_place.block_seq = into ? place.block_seq : out;
          for (llvm::yaml::Node& item :
               *llvm::cast<llvm::yaml::SequenceNode>(n)) {
            Node* child = build(&item, depth + 1, item_place, &own_spill);
            if (!child) return abort();
            take(last_weight_);
            (into ? into->items : item_stack_).push_back(child);
            for (Node* extra : own_spill.items)
              (into ? into->items : item_stack_).push_back(extra);
            take(own_spill.weight);
            own_spill = Spill();
          }
          if (!into) {
            out->items =
                doc_.save(llvm::ArrayRef<Node*>(item_stack_).drop_front(base));
            item_stack_.resize(base);
          }
        } else {
          for (llvm::yaml::KeyValueNode& kv : *llvm::cast<MappingNode>(n)) {
            Place key_place;
            key_place.parent_open = open;
            llvm::yaml::Node* k = kv.getKey();
            Node* key = k ? build(k, depth + 1, key_place, nullptr) : nullptr;
            if (!key) return abort();
            take(last_weight_);
            if (!open && !implicitKeyFits(key)) return abort();
            Place value_place;
            value_place.parent_open = open;
            if (!open) value_place.block_key = key;
            llvm::yaml::Node* v = kv.getValue();
            Node* value =
                v ? build(v, depth + 1, value_place, &own_spill) : nullptr;
            if (!value) return abort();
            if (!open && !valueIndented(key, value)) return abort();
            take(last_weight_);
            auto& to = into ? into->entries : entry_stack_;
            to.emplace_back(key, value);
            for (const auto& extra : own_spill.entries) to.push_back(extra);
            take(own_spill.weight);
            own_spill = Spill();
          }
          if (!into) {
            out->entries =
                doc_.save(llvm::ArrayRef<std::pair<Node*, Node*>>(entry_stack_)
                              .drop_front(base));
            entry_stack_.resize(base);
            applyMergeKeys(doc_, out, diags_);
            dropDuplicateKeys(out, diags_);
          }
        }
        if (into) {
          last_weight_ = Weight{};
          return out;
        }
        weight = saturatingAdd(weight, total.nodes);
        bytes = total.bytes;
        if (parse_failed_ && !failed_in_) failed_in_ = out;
        break;
      }
      default:
        return abort();
    }
    last_weight_ = Weight{weight, bytes};
    if (!n->getAnchor().empty())
      anchors_[source(n->getAnchor())] = {out, last_weight_};
    return out;
  }

  /// Checks what follows the last node of the document up to its end.
  bool finish() { return checkGap(end_, /*document_end=*/true); }

  /// The innermost collection LLVM was reading when it failed, if any.
  const Node* failedIn() const { return failed_in_; }

 private:
  using MappingNode = llvm::yaml::MappingNode;

  // The buffer's pointer for a pointer into the parsed text.
  const char* source(const char* p) const {
    if (!p) return p;
    return begin_ + (p - parsed_);
  }
  llvm::StringRef source(llvm::StringRef s) const {
    return llvm::StringRef(source(s.data()), s.size());
  }
  // Text LLVM computed from the parsed copy, with word colons back.
  std::string restored(llvm::StringRef s) const {
    std::string out = s.str();
    if (stand_in_) std::replace(out.begin(), out.end(), stand_in_, ':');
    return out;
  }

  Node* abort() {
    aborted_ = true;
    return nullptr;
  }

  Node* make() { return doc_.newNode(); }

  static std::uint64_t saturatingAdd(std::uint64_t a, std::uint64_t b) {
    std::uint64_t cap = 1ull << 62;
    return a + b > cap ? cap : a + b;
  }

  Node* aliasOf(llvm::yaml::AliasNode* alias) {
    llvm::StringRef name = source(alias->getName());
    llvm::SMLoc at = llvm::SMLoc::getFromPointer(name.data() - 1);
    auto it = anchors_.find(name);
    if (it == anchors_.end()) {
      diags_.report(llvm::SMRange(at, llvm::SMLoc::getFromPointer(name.end())),
                    diag::YamlSyntax, "unknown anchor '" + name.str() + "'");
      return abort();
    }
    Node* target = it->second.first;
    Weight w = it->second.second;
    last_weight_ = w;
    expanded_ = saturatingAdd(expanded_, w.nodes);
    if (expanded_ > limits_.max_alias_expansion) {
      diags_.report(at, diag::AliasExpansionTooLarge,
                    limits_.max_alias_expansion);
      return abort();
    }
    expanded_bytes_ = saturatingAdd(expanded_bytes_, w.bytes);
    if (expanded_bytes_ > limits_.max_alias_bytes) {
      diags_.report(at, diag::AliasBytesTooLarge, limits_.max_alias_bytes);
      return abort();
    }
    return target;
  }

  // YAML allows an implicit key (one without `? `) on one line only; LLVM's
  // parser takes a plain scalar that runs over lines up to a `: ` as a key.
  // It also splits a plain scalar over lines into keys without values
  // (`long\nkey: 1`): a key of a block mapping needs a ':' after it.
  bool implicitKeyFits(const Node* key) {
    if (!key->isScalar() || last_was_alias_) return true;
    const char* start = key->range.Start.getPointer();
    const char* end = key->range.End.getPointer();
    const char* p = start;
    while (p > begin_ && (isBlank(p[-1]) || isBreak(p[-1]))) --p;
    if (p > begin_ && p[-1] == '?') return true;
    if (!sameLine(start, end)) {
      diags_.report(key->range, diag::YamlSyntax,
                    "a key must be on one line (or follow '? ')");
      return false;
    }
    const char* q = end;
    while (q < end_ && isBlank(*q)) ++q;
    if (q < end_ && *q == ':') return true;
    diags_.report(key->range, diag::YamlSyntax, "expected ':' after the key");
    return false;
  }

  // A value on a line after its key must be indented more than the key (a
  // block sequence may stand at the key's column); LLVM's parser takes a
  // plain scalar at the key's column as the value.
  bool valueIndented(const Node* key, const Node* value) {
    if (value->isNull() || last_was_alias_) return true;
    const char* k = key->range.Start.getPointer();
    const char* v = value->range.Start.getPointer();
    if (v <= k || sameLine(k, v)) return true;
    const char* p = k;  // an explicit key (`? key` then `: value`) is free
    while (p > begin_ && (isBlank(p[-1]) || isBreak(p[-1]))) --p;
    if (p > begin_ && p[-1] == '?') return true;
    std::size_t kc = columnOf(k), vc = columnOf(v);
    if (vc > kc || (vc == kc && value->isSeq() && *v == '-')) return true;
    diags_.report(value->range, diag::YamlSyntax,
                  "a value on the line after its key must be indented more "
                  "than the key");
    return false;
  }

  // An empty node: null, or the empty string when it has a tag (`!!str`).
  void emptyNode(Node* out, llvm::yaml::Node* n) {
    llvm::StringRef raw = n->getRawTag();
    out->kind = raw.empty() ? Node::Kind::Null : Node::Kind::Scalar;
    out->value = {};
    out->plain = false;
    setTag(out, n);
  }

  static bool sameLine(const char* a, const char* b) {
    if (a > b) std::swap(a, b);
    return !hasBreak(llvm::StringRef(a, std::size_t(b - a)));
  }

  std::size_t columnOf(const char* p) const {
    const char* q = p;
    while (q > begin_ && !isBreak(q[-1])) --q;
    return std::size_t(p - q);
  }

  // LLVM's parser reads `a: &x` (or `!tag`) followed on the next line by a
  // sibling key `b: 1` as `a: &x {b: 1}`, and `- &x` followed by `- y` as
  // `- &x [y]`: an empty node with properties takes the next lines that are
  // not indented more than its parent. Such a node is empty; what LLVM read
  // into it belongs to the parent.
  bool misnested(llvm::yaml::Node* n, bool is_seq, const char* first,
                 const Place& place) const {
    llvm::StringRef anchor = source(n->getAnchor()),
                    tag = source(n->getRawTag());
    const char* property = !anchor.empty() ? anchor.data() - 1 : nullptr;
    if (!tag.empty() && (!property || tag.data() < property))
      property = tag.data();
    if (!property || property >= first || sameLine(property, first))
      return false;
    std::size_t col = columnOf(first);
    if (place.block_key) {
      std::size_t key_col = columnOf(place.block_key->range.Start.getPointer());
      return is_seq ? col < key_col : col <= key_col;
    }
    if (place.block_seq && is_seq)
      return col <= columnOf(place.block_seq->range.Start.getPointer());
    return false;
  }

  // Checks the text between the last node and the next one (indicators,
  // brackets, blanks, comments): LLVM's parser skips empty entries of flow
  // collections (`[a,,b]`, `[,]`, `{,}`), which YAML does not allow. At the
  // end of a document, stops at the next document marker.
  // In a flow collection two nodes need an indicator between them: LLVM's
  // parser reads `['x' 'y']` and `{d: 'x'y}` as two entries.
  bool checkGap(const char* upto, bool document_end = false,
                bool in_flow = false) {
    const char* p = gap_from_;
    if (!p || p > upto) return true;
    char prev = 0;
    bool indicator = false;
    bool line_start = false;
    for (; p < upto; ++p) {
      char c = *p;
      if (c == ' ') {  // indentation: most of a gap
        line_start = false;
        continue;
      }
      if (isBreak(c)) {
        line_start = true;
        continue;
      }
      if (document_end && line_start && upto - p >= 3 &&
          (llvm::StringRef(p, 3) == "---" || llvm::StringRef(p, 3) == "..."))
        break;
      if (document_end && line_start && c == '%') {
        // LLVM ends the document at a directive and reads no more.
        diags_.report(llvm::SMLoc::getFromPointer(p), diag::YamlSyntax,
                      "a directive ('%') inside a document; directives come "
                      "before '---'");
        return false;
      }
      line_start = false;
      if (isBlank(c)) continue;
      if (c == '#') {
        while (p + 1 < upto && !isBreak(p[1])) ++p;
        continue;
      }
      if (c == ',' && (prev == ',' || prev == '[' || prev == '{')) {
        diags_.report(llvm::SMLoc::getFromPointer(p), diag::YamlSyntax,
                      "a ',' with no entry before it");
        return false;
      }
      indicator |= c == ',' || c == ':' || c == '?' || c == '[' || c == ']' ||
                   c == '{' || c == '}';
      prev = c;
    }
    if (in_flow && !indicator) {
      diags_.report(llvm::SMLoc::getFromPointer(upto), diag::YamlSyntax,
                    "expected ',' or ':' before this");
      return false;
    }
    return true;
  }

  // The node's first character: its first property (`&anchor`, `!tag`), the
  // bracket of a flow collection, else where LLVM puts it.
  const char* startOf(llvm::yaml::Node* n, const char* parent_open) const {
    const char* at = source(n->getSourceRange().Start.getPointer());
    if (auto* s = llvm::dyn_cast<llvm::yaml::ScalarNode>(n))
      at = source(s->getRawValue().data());
    if (!at || at < begin_ || at > end_) at = end_;
    if (llvm::isa<llvm::yaml::SequenceNode>(n) ||
        llvm::isa<llvm::yaml::MappingNode>(n)) {
      // LLVM starts a flow collection at the token after its bracket.
      const char* open = openBracketBefore(at);
      if (open && open != parent_open) at = open;
    } else if (llvm::isa<llvm::yaml::BlockScalarNode>(n)) {
      // ... and a block scalar at its first line of text.
      if (const char* header = blockHeaderBefore(at)) at = header;
    }
    llvm::StringRef anchor = source(n->getAnchor()),
                    tag = source(n->getRawTag());
    if (!anchor.empty() && anchor.data() - 1 < at) at = anchor.data() - 1;
    if (!tag.empty() && tag.data() < at) at = tag.data();
    return at;
  }

  // The end of the text of the line before the line break that ends just
  // before `p`, up to its comment if it has one.
  const char* endOfPreviousLine(const char* p) const {
    const char* eol = p - 1;
    if (*eol == '\n' && eol > begin_ && eol[-1] == '\r') --eol;
    const char* bol = eol;
    while (bol > begin_ && !isBreak(bol[-1])) --bol;
    for (const char* q = bol; q < eol; ++q)
      if (*q == '#' && (q == bol || isBlank(q[-1]))) return q;
    return eol;
  }

  // Whether the file ends without a line break after a line of the block
  // scalar whose text starts at `text`: a line longer than the indentation
  // of the scalar's first line with text.
  bool lastLineHasText(const char* text) const {
    if (end_ == begin_ || isBreak(end_[-1])) return false;
    const char* last = end_;
    while (last > text && !isBreak(last[-1])) --last;
    std::size_t indent = std::string::npos;
    for (const char* p = text; p < end_ && indent == std::string::npos;) {
      const char* q = p;
      while (q < end_ && *q == ' ') ++q;
      if (q < end_ && !isBreak(*q))
        indent = std::size_t(q - p);
      else
        p = q < end_ ? q + 1 : q;
    }
    return indent != std::string::npos && std::size_t(end_ - last) > indent;
  }

  // The `[` or `{` that only blanks, line breaks and comments separate from
  // `at`, or nullptr.
  const char* openBracketBefore(const char* at) const {
    const char* p = at;
    while (p > begin_) {
      char c = p[-1];
      if (isBlank(c)) {
        --p;
        continue;
      }
      if (c == '[' || c == '{') return p - 1;
      if (!isBreak(c)) return nullptr;
      p = endOfPreviousLine(p);
    }
    return nullptr;
  }

  // The `|` or `>` of the block scalar whose text starts at `at`: the last
  // non-blank line before it ends with the indicator and its header.
  const char* blockHeaderBefore(const char* at) const {
    if (at < end_ && (*at == '|' || *at == '>')) return at;
    const char* p = at;
    while (p > begin_ && isBlank(p[-1])) --p;
    while (p > begin_ && isBreak(p[-1])) {
      const char* q = endOfPreviousLine(p);
      while (q > begin_ && isBlank(q[-1])) --q;
      const char* h = q;
      while (h > begin_ &&
             (llvm::isDigit(h[-1]) || h[-1] == '+' || h[-1] == '-'))
        --h;
      if (h > begin_ && (h[-1] == '|' || h[-1] == '>')) return h - 1;
      if (q > begin_ && !isBreak(q[-1])) return nullptr;  // other text
      p = q;
    }
    return nullptr;
  }

  bool scalar(Node* out, llvm::yaml::ScalarNode* s) {
    llvm::StringRef raw = source(s->getRawValue());
    bool quoted = !raw.empty() && (raw.front() == '"' || raw.front() == '\'');
    if (!quoted)  // rtrim(" \t\r\n") builds a table each call
      while (!raw.empty() && (isBlank(raw.back()) || isBreak(raw.back())))
        raw = raw.drop_back();
    if (quoted && !closedQuote(raw)) {
      // LLVM's parser accepts a single-quoted scalar cut by the end of file.
      diags_.report(llvm::SMLoc::getFromPointer(raw.data()), diag::YamlSyntax,
                    "a quoted scalar is not closed");
      return false;
    }
    out->kind = Node::Kind::Scalar;
    out->range.End = llvm::SMLoc::getFromPointer(raw.end());
    if (!scalarText(raw, out->value)) return false;
    bool tagged = !s->getRawTag().empty();
    out->plain = !quoted && !tagged;
    if (out->plain && isNullString(out->value)) {
      out->kind = Node::Kind::Null;
      out->value = {};
      out->range.End = out->range.Start;
    }
    setTag(out, s);
    return true;
  }

  // The value of the scalar written as `raw` (with its quotes): the source
  // text itself when it needs no folding or unescaping, else a decoded copy
  // in the document. Reports a bad escape.
  bool scalarText(llvm::StringRef raw, llvm::StringRef& out) {
    char open = raw.empty() ? 0 : raw.front();
    bool quoted = (open == '"' || open == '\'') && raw.size() >= 2;
    llvm::StringRef text = quoted ? raw.drop_front().drop_back() : raw;
    // What makes the value differ from the text: a line break, a `\` in
    // double quotes, a `''` in single quotes.
    char special = !quoted ? '\n' : open == '"' ? '\\' : '\'';
    if (!holdsAny(text, special, '\n', '\r')) {
      out = text;
      return true;
    }
    const char* error_at = nullptr;
    std::string error;
    if (!scalarValue(raw, scratch_, error_at, error)) {
      diags_.report(llvm::SMLoc::getFromPointer(error_at), diag::YamlSyntax,
                    error);
      return false;
    }
    out = doc_.save(scratch_);
    return true;
  }

  // Keeps an explicit tag; only the core schema's are allowed: others ask a
  // loader to build objects (!!python/object/apply) or binary data.
  void setTag(Node* out, llvm::yaml::Node* n) {
    llvm::StringRef raw = source(n->getRawTag());
    if (raw.empty() || raw == "!") return;
    if (raw.startswith("!<") && raw.endswith(">"))
      setCheckedTag(out, raw.drop_front(2).drop_back(), diags_);
    else
      setCheckedTag(out, doc_.save(restored(n->getVerbatimTag())), diags_);
  }

  Document& doc_;
  const char* begin_;
  const char* end_;
  const char* parsed_;
  char stand_in_;
  const bool& parse_failed_;
  DiagnosticEngine& diags_;
  const Limits& limits_;
  bool aborted_ = false;
  const Node* failed_in_ = nullptr;
  const char* gap_from_ = nullptr;  ///< end of the last node read
  bool last_was_alias_ = false;     ///< the last node read was an alias
  llvm::StringMap<std::pair<Node*, Weight>> anchors_;
  Weight last_weight_;             ///< of the node built last
  std::vector<Node*> item_stack_;  ///< children being gathered
  std::vector<std::pair<Node*, Node*>> entry_stack_;
  std::uint64_t expanded_ = 0;
  std::uint64_t expanded_bytes_ = 0;
  std::string scratch_;  ///< a scalar's value being decoded
};

// LLVM's parser reports its first error through a SourceMgr; this one holds
// the same bytes (not a copy) and keeps the message instead of printing it.
struct ErrorCatcher {
  llvm::SourceMgr sm;
  llvm::SMLoc loc;
  std::string message;
  bool failed = false;

  explicit ErrorCatcher(llvm::MemoryBufferRef parsed) {
    sm.AddNewSourceBuffer(llvm::MemoryBuffer::getMemBuffer(parsed, false),
                          llvm::SMLoc());
    sm.setDiagHandler(
        [](const llvm::SMDiagnostic& d, void* self) {
          auto* c = static_cast<ErrorCatcher*>(self);
          if (c->failed || d.getKind() != llvm::SourceMgr::DK_Error) return;
          c->failed = true;
          c->loc = d.getLoc();
          c->message = d.getMessage().str();
        },
        this);
  }
};

// LLVM's messages, reworded where they name its internals.
std::string syntaxMessage(llvm::StringRef m) {
  m = m.rtrim("!.");
  if (m == "Could not find closing ]") return "a '[' is not closed with ']'";
  if (m == "Expected , between entries") return "expected ',' between entries";
  if (m == "Unexpected token. Expected Key, Flow Entry, or Flow Mapping End")
    return "expected a key, ',' or '}'";
  if (m == "Unexpected token. Expected Key or Block End")
    return "expected a key or the end of the mapping";
  if (m == "Unexpected token. Expected Block Entry or Block End")
    return "expected '- ' or the end of the sequence";
  if (m == "Expected quote at end of scalar")
    return "a quoted scalar is not closed";
  std::string s = m.str();
  if (!s.empty()) s[0] = char(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

}  // namespace

std::unique_ptr<Document> parse(const llvm::SourceMgr& sm, unsigned buffer_id,
                                DiagnosticEngine& diags, const Limits& limits) {
  const llvm::MemoryBuffer* buf = sm.getMemoryBuffer(buffer_id);
  const char* begin = buf->getBufferStart();
  const char* end = buf->getBufferEnd();
  llvm::StringRef text(begin, std::size_t(end - begin));
  llvm::SMLoc file_start = llvm::SMLoc::getFromPointer(begin);
  if (!checkBytes(begin, end, limits.max_repeated_separators, diags))
    return nullptr;
  if (isBlankStream(text)) {
    diags.report(file_start, diag::EmptyFile);
    return nullptr;
  }

  // LLVM parses the buffer itself, or a copy whose word colons it would
  // refuse are replaced; every location and value is taken back to `buf`.
  std::string copy;
  const char* parsed = begin;
  char stand_in = wordColonStandIn(text);
  if (stand_in) {
    copy = text.str();
    for (std::size_t i = text.find(':'); i != llvm::StringRef::npos;
         i = text.find(':', i + 1))
      if (isWordColon(text, i)) copy[i] = stand_in;
    parsed = copy.data();
  }
  llvm::MemoryBufferRef parsed_ref(llvm::StringRef(parsed, text.size()),
                                   buf->getBufferIdentifier());
  ErrorCatcher errors(parsed_ref);
  llvm::yaml::Stream stream(parsed_ref, errors.sm, /*ShowColors=*/false);
  auto doc = std::make_unique<Document>();
  // LLVM's error, at the bracket it names when a flow sequence is left
  // open (LLVM finds out at the end of the file).
  auto syntaxError = [&](const Builder* b) -> std::unique_ptr<Document> {
    llvm::SMLoc at = file_start;
    if (errors.loc.isValid())
      at = llvm::SMLoc::getFromPointer(begin +
                                       (errors.loc.getPointer() - parsed));
    const Node* open = b ? b->failedIn() : nullptr;
    char bracket = open ? *open->range.Start.getPointer() : 0;
    bool at_end =
        llvm::StringRef(at.getPointer(), std::size_t(end - at.getPointer()))
            .ltrim(" \t\r\n")
            .empty();
    if (at_end && (bracket == '[' || bracket == '{'))
      diags
          .report(open->range.Start, diag::YamlSyntax,
                  bracket == '[' ? "a '[' is not closed with ']'"
                                 : "a '{' is not closed with '}'")
          .note(llvm::SMRange(at, at), "the text ends here");
    else
      diags.report(at, diag::YamlSyntax, syntaxMessage(errors.message));
    return nullptr;
  };

  llvm::yaml::document_iterator it = stream.begin();
  if (it == stream.end() || errors.failed) return syntaxError(nullptr);
  llvm::yaml::Node* root = it->getRoot();
  if (!root) {
    diags.report(file_start, diag::YamlSyntax, "no document can be read");
    return nullptr;
  }
  Builder builder(*doc, begin, end, parsed, stand_in, errors.failed, diags,
                  limits);
  doc->root_ = builder.build(root, 0, {}, nullptr);
  if (errors.failed) return syntaxError(&builder);
  if (!doc->root_ || !builder.finish()) return nullptr;

  // A second document is read (its errors count) and ignored, loudly; the
  // rest of the stream is not read.
  ++it;
  if (errors.failed) return syntaxError(nullptr);
  if (it != stream.end()) {
    Document extra;
    Builder rest(extra, begin, end, parsed, stand_in, errors.failed, diags,
                 limits);
    llvm::yaml::Node* second = it->getRoot();
    Node* n = second ? rest.build(second, 0, {}, nullptr) : nullptr;
    if (errors.failed) return syntaxError(&rest);
    if (!second) {
      diags.report(file_start, diag::YamlSyntax,
                   "the second document cannot be read");
      return nullptr;
    }
    if (!n || !rest.finish()) return nullptr;
    diags.report(n->range.Start, diag::ExtraDocument);
  }
  return doc;
}

}  // namespace pipec::ir::yaml
