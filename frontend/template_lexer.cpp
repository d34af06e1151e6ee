// The binding-template lexer.
#include "frontend/template_lexer.h"

namespace pipec::frontend {

namespace diag = ir::diag;

bool isRuntimeToken(llvm::StringRef path) {
  return path == "name" || path == "output_name" || path == "default_datastore";
}

bool mayHoldBindings(llvm::StringRef value) {
  for (std::size_t i = value.find('$'); i != llvm::StringRef::npos;
       i = value.find('$', i + 1)) {
    llvm::StringRef rest = value.substr(i + 1, 2);
    if (rest == "<<" || rest == "{{" || rest == "[[") return true;
  }
  return false;
}

namespace {

bool isSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
         c == '\r';
}

// StringRef::ltrim()/rtrim() without the character table they build per
// call: every segment of every binding is trimmed.
llvm::StringRef ltrimSpace(llvm::StringRef s) {
  while (!s.empty() && isSpace(s.front())) s = s.drop_front();
  return s;
}
llvm::StringRef trimSpace(llvm::StringRef s) {
  s = ltrimSpace(s);
  while (!s.empty() && isSpace(s.back())) s = s.drop_back();
  return s;
}

// Whether `body` holds an opener (`$<<`, `${{`, `$[[`) from offset 3 on.
bool holdsOpener(llvm::StringRef body) {
  for (std::size_t i = body.find('$', 3); i != llvm::StringRef::npos;
       i = body.find('$', i + 1)) {
    llvm::StringRef next = body.substr(i + 1, 2);
    if (next == "<<" || next == "{{" || next == "[[") return true;
  }
  return false;
}

class Lexer {
 public:
  Lexer(llvm::StringRef value, llvm::SMRange where, const char* buffer_end,
        ir::DiagnosticEngine& diags)
      : value_(value), where_(where), buffer_end_(buffer_end), diags_(diags) {
    const char* start = where.Start.getPointer();
    cursor_ = start;
    // The common case: the value is spelled as-is (plain) or inside quotes
    // without escapes. Then offsets map directly.
    if (start && buffer_end && start < buffer_end) {
      std::size_t avail = std::size_t(buffer_end - start);
      if (avail >= value.size() &&
          llvm::StringRef(start, value.size()) == value)
        direct_ = start;
      else if ((*start == '"' || *start == '\'') && avail > value.size() + 1 &&
               llvm::StringRef(start + 1, value.size()) == value &&
               start[value.size() + 1] == *start)
        direct_ = start + 1;
    }
  }

  ast::TemplateString run() {
    ast::TemplateString t;
    t.raw = value_.str();
    t.range = where_;
    std::string text;
    int group = -1;
    auto flush = [&] {
      if (text.empty()) return;
      ast::TemplatePart p;
      p.kind = ast::TemplatePart::Kind::Text;
      p.text = std::move(text);
      p.group = group;
      t.parts.push_back(std::move(p));
      text.clear();
    };
    std::size_t i = 0, n = value_.size();
    while (i < n) {
      // Text up to the next `$` (or `]` inside a group) goes in at once.
      if (value_[i] != '$' && (group < 0 || value_[i] != ']')) {
        std::size_t next =
            group < 0 ? value_.find('$', i) : value_.find_first_of("$]", i);
        if (next == llvm::StringRef::npos) next = n;
        text.append(value_.data() + i, next - i);
        i = next;
        continue;
      }
      llvm::StringRef rest = value_.substr(i);
      bool dollar_lt = rest.startswith("$<<");
      bool dollar_brace = rest.startswith("${{");
      if (dollar_lt || dollar_brace) {
        llvm::StringRef close = dollar_lt ? ">>" : "}}";
        std::size_t end = rest.find(close, 3);
        // A binding does not span another opener: `$<<a $<<b>>` leaves the
        // first one open.
        bool spans_opener = false;
        if (end != llvm::StringRef::npos)
          spans_opener = holdsOpener(rest.take_front(end));
        if (end == llvm::StringRef::npos || spans_opener) {
          llvm::SMRange r = locate(i, rest.take_front(3));
          diags_.report(r, diag::UnterminatedBinding, rest.take_front(3),
                        close);
          text += rest.str();
          break;
        }
        llvm::StringRef token = rest.take_front(end + 2);
        llvm::StringRef inner = token.drop_front(3).drop_back(2);
        llvm::SMRange r = locate(i, token);
        llvm::StringRef path = trimSpace(inner);
        if (dollar_brace && isRuntimeToken(path)) {
          // Kept as text: resolved by Azure ML at run time.
          text += token.str();
          i += token.size();
          continue;
        }
        flush();
        ast::TemplatePart p;
        p.kind = ast::TemplatePart::Kind::Ref;
        p.group = group;
        p.ref.range = r;
        p.ref.azure_form = dollar_brace;
        // Split the path into located segments.
        std::size_t lead = inner.size() - ltrimSpace(inner).size();
        std::size_t seg_start = 0;
        p.ref.path.reserve(path.count('.') + 1);
        for (std::size_t k = 0; k <= path.size(); ++k) {
          if (k == path.size() || path[k] == '.') {
            llvm::StringRef seg = path.substr(seg_start, k - seg_start);
            ast::Name name;
            name.text = trimSpace(seg).str();
            const char* base = r.Start.getPointer();
            if (base) {
              const char* s = base + 3 + lead + seg_start;
              name.range =
                  llvm::SMRange(llvm::SMLoc::getFromPointer(s),
                                llvm::SMLoc::getFromPointer(s + seg.size()));
            }
            p.ref.path.push_back(std::move(name));
            seg_start = k + 1;
          }
        }
        t.parts.push_back(std::move(p));
        i += token.size();
        continue;
      }
      if (rest.startswith("$[[")) {
        llvm::SMRange r = locate(i, rest.take_front(3));
        if (group >= 0) {
          diags_.report(r, diag::NestedOptional);
          text += "$[[";
          i += 3;
          continue;
        }
        flush();
        group = int(t.groups.size());
        t.groups.push_back(r);
        i += 3;
        continue;
      }
      if (group >= 0 && rest.startswith("]]")) {
        flush();
        llvm::SMRange r = locate(i, rest.take_front(2));
        t.groups[group].End = r.End;
        group = -1;
        i += 2;
        continue;
      }
      text.push_back(value_[i]);
      ++i;
    }
    flush();
    if (group >= 0)
      diags_.report(t.groups[group], diag::UnterminatedBinding, "$[[", "]]");
    return t;
  }

 private:
  // The source range of `token`, found at `offset` in the value.
  llvm::SMRange locate(std::size_t offset, llvm::StringRef token) {
    const char* p = nullptr;
    if (direct_) {
      p = direct_ + offset;
    } else if (cursor_ && buffer_end_ && cursor_ < buffer_end_) {
      llvm::StringRef hay(cursor_, std::size_t(buffer_end_ - cursor_));
      std::size_t at = hay.find(token);
      if (at != llvm::StringRef::npos) {
        p = cursor_ + at;
        cursor_ = p + token.size();
      }
    }
    if (!p) return where_;
    return llvm::SMRange(llvm::SMLoc::getFromPointer(p),
                         llvm::SMLoc::getFromPointer(p + token.size()));
  }

  llvm::StringRef value_;
  llvm::SMRange where_;
  const char* buffer_end_;
  ir::DiagnosticEngine& diags_;
  const char* direct_ = nullptr;
  const char* cursor_ = nullptr;
};

}  // namespace

ast::TemplateString lexTemplate(llvm::StringRef value, llvm::SMRange where,
                                const char* buffer_end,
                                ir::DiagnosticEngine& diags) {
  return Lexer(value, where, buffer_end, diags).run();
}

}  // namespace pipec::frontend
