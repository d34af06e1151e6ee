// A small POSIX word splitter that errs towards the shell.
#include "runtime/shell_words.h"

#include "llvm/ADT/StringSet.h"

namespace pipec::runtime {

namespace {

// Words that only mean what they mean inside a shell: keywords, special
// builtins and builtins that act on the shell itself.
bool isShellWord(llvm::StringRef w) {
  static const llvm::StringSet<> kWords = {
      "!",       "{",        "}",       "[[",       "]]",      "case",
      "do",      "done",     "elif",    "else",     "esac",    "fi",
      "for",     "function", "if",      "in",       "select",  "then",
      "until",   "while",    ".",       ":",        "alias",   "bg",
      "break",   "cd",       "command", "continue", "eval",    "exec",
      "exit",    "export",   "fc",      "fg",       "getopts", "hash",
      "jobs",    "local",    "read",    "readonly", "return",  "set",
      "shift",   "source",   "times",   "trap",     "type",    "ulimit",
      "umask",   "unalias",  "unset",   "wait",     "let",     "declare",
      "typeset", "ulimit"};
  return kWords.contains(w);
}

}  // namespace

SplitCommand splitCommand(llvm::StringRef line) {
  SplitCommand out;
  std::string word;
  bool in_word = false;
  bool first_has_eq = false;
  auto finish = [&] {
    if (!in_word) return;
    if (out.words.empty() && first_has_eq) out.needs_shell = true;
    out.words.push_back(std::move(word));
    word.clear();
    in_word = false;
  };
  for (std::size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    switch (c) {
      case ' ':
      case '\t':
        finish();
        continue;
      case '\'': {
        in_word = true;
        std::size_t end = line.find('\'', i + 1);
        if (end == llvm::StringRef::npos) {
          out.needs_shell = true;  // sh reports the error
          end = line.size();
        }
        word += line.slice(i + 1, end).str();
        i = end;
        continue;
      }
      case '"': {
        in_word = true;
        std::size_t j = i + 1;
        for (; j < line.size() && line[j] != '"'; ++j) {
          char d = line[j];
          if (d == '$' || d == '`' || d == '\\') out.needs_shell = true;
          if (d == '\\' && j + 1 < line.size() &&
              llvm::StringRef("\"\\$`").contains(line[j + 1]))
            d = line[++j];
          word.push_back(d);
        }
        if (j >= line.size()) out.needs_shell = true;
        i = j;
        continue;
      }
      case '\\':
        in_word = true;
        out.needs_shell = true;
        if (i + 1 < line.size()) word.push_back(line[++i]);
        continue;
      case '#':
      case '~':
        if (!in_word) out.needs_shell = true;
        break;
      case '=':
        if (out.words.empty()) first_has_eq = true;
        break;
      case '\n':
      case '\r':
      case '|':
      case '&':
      case ';':
      case '<':
      case '>':
      case '(':
      case ')':
      case '$':
      case '`':
      case '*':
      case '?':
      case '[':
      case ']':
      case '{':
      case '}':
      case '!':
        out.needs_shell = true;
        break;
      default:
        break;
    }
    in_word = true;
    word.push_back(c);
  }
  finish();
  if (out.words.empty() || isShellWord(out.words[0])) out.needs_shell = true;
  return out;
}

}  // namespace pipec::runtime
