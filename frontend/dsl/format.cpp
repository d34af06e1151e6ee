// `pipec fmt`: the canonical layout of a .pipe file, computed from its tokens
// (comments included) so that nothing but whitespace ever changes.
#include "frontend/dsl/dsl_loader.h"
#include "frontend/dsl/parse.h"

namespace pipec::frontend {

namespace {

using pipec_dsl_gen::PipeLexer;

struct Item {
  llvm::StringRef text;
  std::size_t type = 0;
  unsigned newlines = 0;  // line breaks in the whitespace before it
};

bool isOpen(llvm::StringRef s) { return s == "{" || s == "(" || s == "["; }
bool isClose(llvm::StringRef s) { return s == "}" || s == ")" || s == "]"; }
bool isComment(const Item& i) {
  return i.type == PipeLexer::LINE_COMMENT ||
         i.type == PipeLexer::BLOCK_COMMENT;
}
bool isNumber(const Item& i) {
  return i.type == PipeLexer::INT || i.type == PipeLexer::FLOAT;
}
bool isString(const Item& i) {
  return i.type == PipeLexer::STRING || i.type == PipeLexer::TEXT_BLOCK;
}
bool startsDeclaration(const Item& i) {
  return i.type == PipeLexer::IMPORT || i.type == PipeLexer::COMPONENT ||
         i.type == PipeLexer::PARALLEL || i.type == PipeLexer::PIPELINE;
}

// Whether one space separates `prev` and `cur` on a line.
bool spaceBetween(const Item& prev, const Item& cur) {
  llvm::StringRef p = prev.text, c = cur.text;
  if (isComment(cur)) return true;
  if (c == "," || c == ")" || c == "]" || c == "?" || c == "." || c == ":")
    return false;
  if (p == "(" || p == "[" || p == ".") return false;
  if (p == "..") return !isNumber(cur);
  if (c == "..") return !isNumber(prev);
  if (c == "(") return prev.type != PipeLexer::IDENT;
  if (p == "{" && c == "}") return false;
  return true;
}

}  // namespace

bool formatDslBuffer(const llvm::SourceMgr& sm, unsigned buffer_id,
                     ir::DiagnosticEngine& diags, std::string& out) {
  llvm::StringRef text = sm.getMemoryBuffer(buffer_id)->getBuffer();
  if (!dsl::checkBytes(text, diags)) return false;
  auto parsed = dsl::parse(text, diags);
  if (parsed->errors || !parsed->tree) return false;

  // Whitespace is not a token: the line breaks before a token are counted
  // in the bytes between it and the previous one.
  std::vector<Item> items;
  std::size_t last_end = 0;
  for (antlr4::Token* t : parsed->tokens->getTokens()) {
    std::size_t type = t->getType();
    if (type == antlr4::Token::EOF) break;
    llvm::StringRef s = dsl::tokenText(*parsed, t);
    std::size_t start = t->getStartIndex();
    unsigned newlines = unsigned(text.slice(last_end, start).count('\n'));
    last_end = start + s.size();
    items.push_back(Item{s, type, newlines});
  }

  out.clear();
  int depth = 0;
  bool line_open = false;
  const Item* prev = nullptr;
  // The last line ended a top-level declaration, or was an import.
  bool after_decl_end = false, after_import = false;
  bool in_import_line = false;
  for (std::size_t i = 0; i < items.size(); ++i) {
    Item cur = items[i];
    if (!prev) cur.newlines = 0;
    // `{` stays on the line of what it opens.
    if (cur.text == "{" && prev && !isComment(*prev)) cur.newlines = 0;
    if (prev && prev->text == "{" && cur.newlines > 1) cur.newlines = 1;
    if (prev && isClose(cur.text) && cur.text == "}" && cur.newlines > 1)
      cur.newlines = 1;
    if (prev && prev->type == PipeLexer::LINE_COMMENT && cur.newlines == 0)
      cur.newlines = 1;
    if (cur.newlines > 2) cur.newlines = 2;
    if (prev && cur.newlines > 0) {
      after_decl_end = prev->text == "}" && depth == 0;
      after_import = in_import_line;
    }
    if (cur.newlines > 0 && depth == 0) {
      bool decl = startsDeclaration(cur) || isComment(cur);
      if (decl && after_decl_end) cur.newlines = 2;
      if (decl && after_import && cur.type != PipeLexer::IMPORT &&
          !isComment(cur))
        cur.newlines = 2;
    }
    if (cur.newlines > 0 || !line_open) {
      if (line_open) {
        out += "\n";
        if (cur.newlines > 1) out += "\n";
      }
      int indent = depth;
      // Leading closers dedent their own line.
      for (std::size_t k = i; k < items.size(); ++k) {
        if (!isClose(items[k].text)) break;
        if (k > i && items[k].newlines) break;
        --indent;
        break;
      }
      // Continuation lines (more pieces of a string, `-> (...)` after a
      // pipeline's inputs) are indented two more levels.
      if (prev && ((isString(cur) && isString(*prev)) || cur.text == "->"))
        indent += 2;
      out.append(std::size_t(std::max(indent, 0)) * 2, ' ');
      line_open = true;
      in_import_line = cur.type == PipeLexer::IMPORT;
    } else if (prev && spaceBetween(*prev, cur)) {
      out += " ";
    }
    out += cur.text.str();
    if (isOpen(cur.text)) ++depth;
    if (isClose(cur.text)) depth = std::max(depth - 1, 0);
    prev = &items[i];
  }
  if (line_open) out += "\n";
  return true;
}

}  // namespace pipec::frontend
