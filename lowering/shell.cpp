// Shell quoting and the context-aware lowering of command templates: a small
// lexer of POSIX sh that knows, at every binding, which quotes surround it.
#include "lowering/shell.h"

#include <algorithm>
#include <array>
#include <optional>

#include "llvm/ADT/StringSet.h"

namespace pipec::lowering {

namespace {

// Words that only mean what they mean inside a shell: keywords, special
// builtins and builtins that act on the shell itself.
bool isShellWord(llvm::StringRef w) {
  static const llvm::StringSet<> kWords = {
      "!",      "{",        "}",       "[[",       "]]",      "case",
      "do",     "done",     "elif",    "else",     "esac",    "fi",
      "for",    "function", "if",      "in",       "select",  "then",
      "until",  "while",    ".",       ":",        "alias",   "bg",
      "break",  "cd",       "command", "continue", "eval",    "exec",
      "exit",   "export",   "fc",      "fg",       "getopts", "hash",
      "jobs",   "local",    "read",    "readonly", "return",  "set",
      "shift",  "source",   "times",   "trap",     "type",    "ulimit",
      "umask",  "unalias",  "unset",   "wait",     "let",     "declare",
      "typeset"};
  return kWords.contains(w);
}

bool isBlank(char c) { return c == ' ' || c == '\t'; }

// Ends a word outside quotes (and starts the next).
bool isWordEnd(char c) {
  return isBlank(c) || c == '\n' || c == ';' || c == '&' || c == '|' ||
         c == '(' || c == ')' || c == '<' || c == '>';
}

// Characters that make a command need the shell when they stand outside
// quotes.
bool isShellSpecial(char c) {
  return llvm::StringRef("\n\r|&;<>()$`*?[]{}!\\").contains(c);
}

// A here-document delimiter that reads the same without quotes.
bool isPlainDelimiter(llvm::StringRef d) {
  if (d.empty()) return false;
  for (char c : d)
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' ||
          c == '.' || c == '+' || c == '@' || c == '%' || c == ',' || c == ':'))
      return false;
  return true;
}

bool isInteger(llvm::StringRef v) {
  v = v.trim();
  if (!v.empty() && (v[0] == '-' || v[0] == '+')) v = v.drop_front();
  if (v.empty()) return false;
  for (char c : v)
    if (c < '0' || c > '9') return false;
  return true;
}

using HeredocValues = std::vector<std::optional<llvm::SMRange>>;

// The lexer. It writes the `sh -c` text and, while the command stays
// simple, the words it runs.
class Lowerer {
 public:
  Lowerer(llvm::ArrayRef<CommandPiece> pieces,
          llvm::ArrayRef<UserArg> user_args, const HeredocValues* rewrite)
      : pieces_(pieces), user_args_(user_args), rewrite_(rewrite) {
    frames_.push_back({Ctx::Bare});
    for (const CommandPiece& p : pieces)
      if (p.kind == CommandPiece::Kind::Value) ++total_values_;
  }

  void run() {
    for (piece_ = 0; piece_ < pieces_.size(); ++piece_) {
      const CommandPiece& p = pieces_[piece_];
      if (p.kind == CommandPiece::Kind::Text)
        text(p.text);
      else
        value(p);
    }
    finish();
  }

  CompiledCommand take() {
    CompiledCommand c;
    c.shell = std::move(out_);
    c.needs_shell = needs_shell_;
    if (!needs_shell_) c.words = std::move(words_);
    c.arithmetic = std::move(arith_);
    c.problems = std::move(problems_);
    return c;
  }
  /// Per here-document, in order: the first binding in its body, if any.
  const HeredocValues& heredocValues() const { return heredoc_values_; }

 private:
  enum class Ctx : std::uint8_t {
    Bare,      // the command itself
    CmdSubst,  // $( ... )
    Backtick,  // ` ... `
    DQuote,    // " ... "
    SQuote,    // ' ... '
    Arith,     // $(( ... ))
    Brace,     // ${ ... }
    Comment,   // # ... to the end of the line
    Heredoc,   // the body of a here-document
  };
  struct Frame {
    Ctx ctx;
    int depth = 0;       // nested ( or { inside CmdSubst, Arith, Brace
    bool in_dq = false;  // Brace: inside double quotes
  };
  struct Heredoc {
    std::string delim;
    bool strip_tabs = false;
    bool quoted = false;
    bool rewritten = false;  // was quoted; written unquoted, body escaped
    std::size_t ordinal = 0;
  };

  Ctx top() const { return frames_.back().ctx; }
  bool bareLike() const {
    Ctx c = top();
    return c == Ctx::Bare || c == Ctx::CmdSubst || c == Ctx::Backtick ||
           (c == Ctx::Brace && !frames_.back().in_dq);
  }
  // Words are tracked only while the command is one simple command.
  bool simple() const {
    return frames_.size() == 1 ||
           (frames_.size() == 2 &&
            (top() == Ctx::SQuote || top() == Ctx::DQuote));
  }
  void push(Ctx c, bool in_dq = false) {
    frames_.push_back({c, 0, in_dq});
    if (!simple()) needs_shell_ = true;
  }
  void pop() {
    if (frames_.size() > 1) frames_.pop_back();
  }

  void finishWord() {
    if (!in_word_) return;
    if (words_.empty() && (first_has_eq_ || first_has_value_))
      needs_shell_ = true;
    words_.push_back(std::move(word_));
    word_.clear();
    in_word_ = false;
  }

  // Literal text of the word being read.
  void addText(char c) {
    if (word_.empty() || word_.back().slot >= 0) word_.push_back({});
    word_.back().text += c;
  }

  bool lastPiece() const { return piece_ + 1 == pieces_.size(); }

  // `$PAI_USER_ARGS` or `${PAI_USER_ARGS}` as a whole word at t[i].
  std::size_t userArgsAt(llvm::StringRef t, std::size_t i) const {
    for (llvm::StringRef form : {"$PAI_USER_ARGS", "${PAI_USER_ARGS}"}) {
      if (!t.substr(i).startswith(form)) continue;
      std::size_t end = i + form.size();
      if (end < t.size() ? isWordEnd(t[end]) : lastPiece()) return form.size();
      if (form[1] != '{' && end < t.size() &&
          (isalnum(static_cast<unsigned char>(t[end])) || t[end] == '_'))
        continue;
    }
    return 0;
  }

  void emitUserArgs() {
    bool first = true;
    for (const UserArg& a : user_args_) {
      if (!first) out_ += ' ';
      first = false;
      out_ += a.flag + " \"$" + a.env_var + "\"";
      if (simple()) {
        finishWord();
        words_.push_back({{a.flag, -1}});
        words_.push_back({{"", int(total_values_ + (&a - user_args_.data()))}});
      }
    }
  }

  void text(llvm::StringRef t) {
    for (std::size_t i = 0; i < t.size(); ++i) {
      char c = t[i];
      if (reading_delim_) {
        if (readDelimiter(c)) continue;
      }
      switch (top()) {
        case Ctx::SQuote:
          out_ += c;
          if (c == '\'')
            pop();
          else
            addText(c);
          continue;
        case Ctx::Comment:
          out_ += c;
          if (c == '\n') {
            pop();
            newline();
          }
          continue;
        case Ctx::Heredoc:
          heredocChar(t, i);
          continue;
        default:
          break;
      }
      if (escape_) {
        escape_ = false;
        out_ += c;
        if (c != '\n') {  // else a line continuation
          addText(c);
          in_word_ = true;
        }
        word_start_ = false;
        continue;
      }
      if (top() == Ctx::DQuote) {
        dquoteChar(t, i);
        continue;
      }
      if (top() == Ctx::Arith) {
        arithChar(t, i);
        continue;
      }
      bareChar(t, i);
    }
  }

  void dquoteChar(llvm::StringRef t, std::size_t& i) {
    char c = t[i];
    if (c == '"') {
      out_ += c;
      pop();
      return;
    }
    if (c == '\\') {
      out_ += c;
      escape_ = true;
      needs_shell_ = true;
      return;
    }
    if (c == '$' || c == '`') {
      needs_shell_ = true;
      if (openExpansion(t, i, /*in_dq=*/true)) return;
    }
    out_ += c;
    addText(c);
  }

  void arithChar(llvm::StringRef t, std::size_t& i) {
    char c = t[i];
    Frame& f = frames_.back();
    if (c == '(') ++f.depth;
    if (c == ')') {
      if (f.depth == 0 && i + 1 < t.size() && t[i + 1] == ')') {
        out_ += "))";
        ++i;
        pop();
        return;
      }
      if (f.depth > 0) --f.depth;
    }
    if (c == '$' && openExpansion(t, i, false)) return;
    out_ += c;
  }

  // $( $(( ${ and ` : opens a nested context at t[i]; false when t[i] is a
  // plain character.
  bool openExpansion(llvm::StringRef t, std::size_t& i, bool in_dq) {
    if (t[i] == '`') {
      out_ += '`';
      push(Ctx::Backtick);
      word_start_ = true;
      return true;
    }
    llvm::StringRef rest = t.substr(i);
    if (rest.startswith("$((")) {
      out_ += "$((";
      i += 2;
      push(Ctx::Arith);
      return true;
    }
    if (rest.startswith("$(")) {
      out_ += "$(";
      i += 1;
      push(Ctx::CmdSubst);
      word_start_ = true;
      return true;
    }
    if (rest.startswith("${")) {
      out_ += "${";
      i += 1;
      push(Ctx::Brace, in_dq);
      return true;
    }
    return false;
  }

  void bareChar(llvm::StringRef t, std::size_t& i) {
    char c = t[i];
    Ctx ctx = top();
    bool at_top = frames_.size() == 1;
    if (ctx == Ctx::Backtick && c == '`') {
      out_ += c;
      pop();
      word_start_ = false;
      return;
    }
    if (ctx == Ctx::CmdSubst && (c == '(' || c == ')')) {
      Frame& f = frames_.back();
      if (c == '(') {
        ++f.depth;
      } else if (f.depth == 0) {
        out_ += c;
        pop();
        word_start_ = false;
        return;
      } else {
        --f.depth;
      }
    }
    if (ctx == Ctx::Brace && (c == '{' || c == '}')) {
      Frame& f = frames_.back();
      if (c == '{') {
        ++f.depth;
      } else if (f.depth == 0) {
        out_ += c;
        pop();
        return;
      } else {
        --f.depth;
      }
    }
    if (c == '$' && word_start_ && ctx != Ctx::Brace) {
      if (std::size_t n = userArgsAt(t, i)) {
        emitUserArgs();
        i += n - 1;
        word_start_ = false;
        return;
      }
    }
    if (at_top) bareWordChar(c);
    switch (c) {
      case '\'':
        out_ += c;
        push(Ctx::SQuote);
        word_start_ = false;
        return;
      case '"':
        out_ += c;
        push(Ctx::DQuote);
        word_start_ = false;
        return;
      case '\\':
        out_ += c;
        escape_ = true;
        return;
      case '#':
        if (word_start_) {
          out_ += c;
          push(Ctx::Comment);
          return;
        }
        break;
      case '$':
      case '`':
        if (openExpansion(t, i, false)) return;
        break;
      case '<':
        if (t.substr(i).startswith("<<") && !t.substr(i).startswith("<<<")) {
          bool strip = t.substr(i).startswith("<<-");
          out_ += strip ? "<<-" : "<<";
          i += strip ? 2 : 1;
          reading_delim_ = true;
          delim_ = Heredoc();
          delim_.strip_tabs = strip;
          delim_raw_.clear();
          delim_quote_ = 0;
          delim_escape_ = false;
          word_start_ = false;
          return;
        }
        break;
      case '\n':
        out_ += c;
        word_start_ = true;
        newline();
        return;
      default:
        break;
    }
    out_ += c;
    word_start_ = isWordEnd(c);
  }

  // The argument words of a simple command, outside quotes.
  void bareWordChar(char c) {
    if (isBlank(c)) {
      finishWord();
      return;
    }
    if (c == '\'' || c == '"') {
      in_word_ = true;
      return;
    }
    if ((c == '#' || c == '~') && !in_word_) needs_shell_ = true;
    if (c == '=' && words_.empty()) first_has_eq_ = true;
    if (isShellSpecial(c)) needs_shell_ = true;
    in_word_ = true;
    addText(c);
  }

  // One character of a here-document delimiter word; false when the word
  // ended before `c` (which is then lexed as usual).
  bool readDelimiter(char c) {
    if (delim_quote_) {
      delim_raw_ += c;
      if (c == delim_quote_)
        delim_quote_ = 0;
      else
        delim_.delim += c;
      return true;
    }
    if (delim_escape_) {
      delim_raw_ += c;
      delim_.delim += c;
      delim_escape_ = false;
      return true;
    }
    if (isBlank(c) && delim_raw_.empty()) {
      out_ += c;
      return true;
    }
    if (c == '\'' || c == '"' || c == '\\') {
      delim_raw_ += c;
      delim_.quoted = true;
      if (c == '\\')
        delim_escape_ = true;
      else
        delim_quote_ = c;
      return true;
    }
    if (!isWordEnd(c)) {
      delim_raw_ += c;
      delim_.delim += c;
      return true;
    }
    endDelimiter();
    return false;
  }

  void endDelimiter() {
    reading_delim_ = false;
    delim_.ordinal = heredoc_values_.size();
    heredoc_values_.emplace_back();
    const std::optional<llvm::SMRange>* binding =
        rewrite_ && delim_.ordinal < rewrite_->size()
            ? &(*rewrite_)[delim_.ordinal]
            : nullptr;
    bool rewrite = delim_.quoted && binding && *binding;
    if (rewrite && !isPlainDelimiter(delim_.delim)) {
      problems_.push_back(
          {CommandProblem::Kind::HeredocNeedsRewrite, **binding, delim_.delim});
      rewrite = false;
    }
    if (rewrite) {
      out_ += delim_.delim;
      delim_.quoted = false;
      delim_.rewritten = true;
    } else {
      out_ += delim_raw_;
    }
    pending_.push_back(delim_);
  }

  void newline() {
    if (pending_.empty() || top() == Ctx::Heredoc) return;
    startBody();
  }

  void startBody() {
    frames_.push_back({Ctx::Heredoc});
    needs_shell_ = true;
    body_ = pending_.front();
    pending_.erase(pending_.begin());
    line_.clear();
    line_has_value_ = false;
  }

  void heredocChar(llvm::StringRef t, std::size_t& i) {
    char c = t[i];
    if (c == '\n') {
      out_ += c;
      endLine();
      return;
    }
    line_ += c;
    if (body_.rewritten) {
      if (c == '\\' || c == '$' || c == '`') out_ += '\\';
      out_ += c;
      return;
    }
    if (body_.quoted) {
      out_ += c;
      return;
    }
    // An unquoted body expands as "..." does.
    if (escape_) {
      escape_ = false;
      out_ += c;
      return;
    }
    if (c == '\\') {
      escape_ = true;
      out_ += c;
      return;
    }
    if ((c == '$' || c == '`') && openExpansion(t, i, true)) {
      line_has_value_ = true;  // not a delimiter line any more
      return;
    }
    out_ += c;
  }

  void endLine() {
    llvm::StringRef line = line_;
    if (body_.strip_tabs) line = line.ltrim('\t');
    bool end = !line_has_value_ && line == body_.delim;
    line_.clear();
    line_has_value_ = false;
    if (!end) return;
    pop();
    word_start_ = true;
    if (!pending_.empty()) startBody();
  }

  void value(const CommandPiece& p) {
    int slot = int(value_count_++);
    if (reading_delim_) {
      problems_.push_back(
          {CommandProblem::Kind::HeredocDelimiter, p.range, p.text});
      // Read on as if the value were written there.
      delim_raw_ += p.text;
      delim_.delim += p.text;
      return;
    }
    std::string braced = "${" + p.env_var + "}";
    std::string quoted = "\"$" + p.env_var + "\"";
    // A backslash just before the binding stays a backslash; it does not
    // escape the reference.
    if (escape_) {
      out_ += '\\';
      escape_ = false;
    }
    switch (top()) {
      case Ctx::SQuote:
        out_ += "'" + quoted + "'";
        break;
      case Ctx::DQuote:
      case Ctx::Comment:
        out_ += braced;
        break;
      case Ctx::Brace:
        out_ += frames_.back().in_dq ? braced : quoted;
        break;
      case Ctx::Arith:
        arith_.push_back({slot, p.range});
        out_ += braced;
        break;
      case Ctx::Heredoc:
        if (!heredoc_values_[body_.ordinal])
          heredoc_values_[body_.ordinal] = p.range;
        line_has_value_ = true;
        out_ += braced;
        break;
      case Ctx::Bare:
      case Ctx::CmdSubst:
      case Ctx::Backtick:
        out_ += quoted;
        break;
    }
    if (simple()) {
      if (words_.empty()) first_has_value_ = true;
      word_.push_back({"", slot});
      in_word_ = true;
    }
    word_start_ = false;
  }

  void finish() {
    if (reading_delim_) endDelimiter();
    finishWord();
    if (frames_.size() != 1 || escape_ || !pending_.empty())
      needs_shell_ = true;
    if (words_.empty() ||
        (words_[0].size() == 1 && isShellWord(words_[0][0].text)))
      needs_shell_ = true;
  }

  llvm::ArrayRef<CommandPiece> pieces_;
  llvm::ArrayRef<UserArg> user_args_;
  const HeredocValues* rewrite_;
  std::size_t piece_ = 0;

  std::vector<Frame> frames_;
  std::string out_;
  bool escape_ = false;
  bool word_start_ = true;

  using Word = std::vector<CompiledCommand::Part>;
  std::vector<Word> words_;
  Word word_;
  std::size_t value_count_ = 0;
  std::size_t total_values_ = 0;
  std::vector<CompiledCommand::Arith> arith_;
  bool in_word_ = false;
  bool first_has_eq_ = false;
  bool first_has_value_ = false;
  bool needs_shell_ = false;

  bool reading_delim_ = false;
  Heredoc delim_;
  std::string delim_raw_;
  char delim_quote_ = 0;
  bool delim_escape_ = false;
  std::vector<Heredoc> pending_;
  Heredoc body_;
  std::string line_;
  bool line_has_value_ = false;
  HeredocValues heredoc_values_;

  std::vector<CommandProblem> problems_;
};

}  // namespace

std::string shellQuote(llvm::StringRef s) {
  std::string out;
  appendShellQuoted(out, s);
  return out;
}

void appendShellQuoted(std::string& out, llvm::StringRef s) {
  appendShellQuotedTo(out, s);
}

SplitCommand splitCommand(llvm::StringRef line) {
  CommandPiece p;
  p.text = line.str();
  LoweredCommand c = lowerCommand({p}, {});
  SplitCommand out;
  out.needs_shell = c.argv.empty();
  if (out.needs_shell) {
    // The words as far as they go, for callers that want them anyway.
    out.words = splitWords({p});
  } else {
    out.words = std::move(c.argv);
  }
  return out;
}

CompiledCommand compileCommand(llvm::ArrayRef<CommandPiece> pieces,
                               llvm::ArrayRef<UserArg> user_args) {
  // First pass: which quoted here-documents hold a binding (their
  // delimiters are unquoted in the second).
  Lowerer scan(pieces, user_args, nullptr);
  scan.run();
  HeredocValues rewrite = scan.heredocValues();
  bool any = false;
  for (const auto& b : rewrite) any = any || b.has_value();
  if (!any) return scan.take();
  Lowerer second(pieces, user_args, &rewrite);
  second.run();
  return second.take();
}

void instantiateCommandTo(const CompiledCommand& c,
                          llvm::ArrayRef<std::string> values,
                          std::string& shell, std::vector<std::string>& argv,
                          std::vector<CommandProblem>& problems) {
  shell = c.shell;
  problems = c.problems;
  for (const CompiledCommand::Arith& a : c.arithmetic)
    if (std::size_t(a.slot) < values.size() && !isInteger(values[a.slot]))
      problems.push_back(
          {CommandProblem::Kind::ArithmeticValue, a.range, values[a.slot]});
  // In the order of the source.
  std::stable_sort(problems.begin(), problems.end(),
                   [](const CommandProblem& a, const CommandProblem& b) {
                     return a.range.Start.getPointer() <
                            b.range.Start.getPointer();
                   });
  if (c.needs_shell) {
    argv.clear();
    return;
  }
  argv.resize(c.words.size());
  for (std::size_t i = 0; i < c.words.size(); ++i) {
    std::string& w = argv[i];
    w.clear();
    for (const CompiledCommand::Part& part : c.words[i])
      w += part.slot < 0 ? llvm::StringRef(part.text)
                         : llvm::StringRef(values[part.slot]);
  }
}

LoweredCommand instantiateCommand(const CompiledCommand& c,
                                  llvm::ArrayRef<std::string> values) {
  LoweredCommand out;
  instantiateCommandTo(c, values, out.shell, out.argv, out.problems);
  return out;
}

LoweredCommand lowerCommand(llvm::ArrayRef<CommandPiece> pieces,
                            llvm::ArrayRef<UserArg> user_args) {
  std::vector<std::string> values;
  for (const CommandPiece& p : pieces)
    if (p.kind == CommandPiece::Kind::Value) values.push_back(p.text);
  for (const UserArg& a : user_args) values.push_back(a.value);
  return instantiateCommand(compileCommand(pieces, user_args), values);
}

std::vector<std::string> splitWords(llvm::ArrayRef<CommandPiece> pieces) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  bool escape = false;
  for (const CommandPiece& p : pieces) {
    if (p.kind == CommandPiece::Kind::Value) {
      word += p.text;
      in_word = true;
      escape = false;
      continue;
    }
    for (char c : p.text) {
      if (escape) {
        escape = false;
        word += c;
        in_word = true;
        continue;
      }
      if (quote == '\'') {
        if (c == '\'')
          quote = 0;
        else
          word += c;
        continue;
      }
      if (quote == '"') {
        if (c == '"')
          quote = 0;
        else if (c == '\\')
          escape = true;
        else
          word += c;
        continue;
      }
      if (isBlank(c) || c == '\n') {
        if (in_word) words.push_back(std::move(word));
        word.clear();
        in_word = false;
        continue;
      }
      in_word = true;
      if (c == '\'' || c == '"')
        quote = c;
      else if (c == '\\')
        escape = true;
      else
        word += c;
    }
  }
  if (in_word) words.push_back(std::move(word));
  return words;
}

}  // namespace pipec::lowering
