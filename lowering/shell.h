// How values enter commands (LANGUAGE.md, "Values in commands"): shell
// quoting, word splitting, and the command text in which every binding is a
// reference to the environment variable that holds its value.
#pragma once

#include <array>
#include <cstring>
#include <string>
#include <vector>

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/SMLoc.h"

namespace pipec::lowering {

/// POSIX shell quoting where needed, as Python's shlex.quote: "a b" -> 'a b',
/// "it's" -> 'it'"'"'s'; safe words stay bare, "" -> ''.
std::string shellQuote(llvm::StringRef s);
/// shellQuote(s), appended to `out`.
void appendShellQuoted(std::string& out, llvm::StringRef s);

/// The bytes a word may hold unquoted: letters, digits and @%+=:,./-_.
inline constexpr std::array<bool, 256> kShellSafe = [] {
  std::array<bool, 256> t{};
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  constexpr char kPunct[] = "@%+=:,./-_";
  for (std::size_t i = 0; i + 1 < sizeof kPunct; ++i)
    t[static_cast<unsigned char>(kPunct[i])] = true;
  return t;
}();

/// appendShellQuoted() into any output with append(const char*, size_t)
/// and += char (a std::string, a writer's buffer): the one quoting rule.
/// As it is when every byte is safe, else single-quoted with each '
/// written '"'"'; one scan up to the first unsafe byte, then memchr for
/// quotes.
template <typename Out>
void appendShellQuotedTo(Out& out, llvm::StringRef s) {
  const char* p = s.data();
  const char* e = p + s.size();
  if (p == e) {
    out.append("''", 2);
    return;
  }
  const char* q = p;
  auto safe = [](const char* c) {
    return kShellSafe[static_cast<unsigned char>(*c)];
  };
  // Four bytes a turn: one branch for the run of safe bytes most words are.
  while (e - q >= 4 && (safe(q) & safe(q + 1) & safe(q + 2) & safe(q + 3)))
    q += 4;
  while (q != e && safe(q)) ++q;
  if (q == e) {
    out.append(p, s.size());
    return;
  }
  out += '\'';
  for (;;) {
    const void* a = std::memchr(q, '\'', e - q);
    if (!a) break;
    q = static_cast<const char*>(a);
    out.append(p, q - p);
    out.append("'\"'\"'", 5);
    p = q = q + 1;
  }
  out.append(p, e - p);
  out += '\'';
}

/// A command line split POSIX-style: blanks separate words, '...' is
/// literal, "..." and backslash escape as in sh.
struct SplitCommand {
  std::vector<std::string> words;
  /// True when running the line as words would differ from `sh -c`:
  /// expansions ($, `), globs, redirections, pipes, lists, comments,
  /// assignments, newlines, a first word that is a shell builtin or keyword,
  /// or an empty line.
  bool needs_shell = false;
};
SplitCommand splitCommand(llvm::StringRef line);

/// One piece of a command template: literal shell text, or a value that a
/// binding stands for.
struct CommandPiece {
  enum class Kind : std::uint8_t { Text, Value };
  Kind kind = Kind::Text;
  /// Text: the literal shell text. Value: the value itself.
  std::string text;
  /// Value: the environment variable every process of the step gets with
  /// exactly this value (`PAI_HPS_LR`).
  std::string env_var;
  llvm::SMRange range;  ///< the binding, for messages
};

/// A flag of `$PAI_USER_ARGS`: `--name` and the variable holding its value.
struct UserArg {
  std::string flag;     ///< "--lr"
  std::string env_var;  ///< "PAI_HPS_LR"
  std::string value;
};

/// Something in a command that cannot be lowered safely.
struct CommandProblem {
  enum class Kind : std::uint8_t {
    ArithmeticValue,      ///< a non-integer value inside $(( ))
    HeredocDelimiter,     ///< a binding inside a here-document delimiter
    HeredocNeedsRewrite,  ///< a quoted delimiter that cannot be unquoted
  };
  Kind kind;
  llvm::SMRange range;
  std::string detail;  ///< the value or the delimiter
};

struct LoweredCommand {
  /// What `sh -c` runs. A value never appears in it: each binding is a
  /// reference to its variable written for the quoting context it sits in
  /// (bare: "$V"; in "...": ${V}; in '...': '"$V"'; in a here-document:
  /// ${V}, the document unquoted when it was quoted). Bare `$PAI_USER_ARGS`
  /// becomes `--name "$PAI_HPS_NAME"` for every flag.
  std::string shell;
  /// The words the command runs when it needs no shell (values in place);
  /// empty when it does.
  std::vector<std::string> argv;
  std::vector<CommandProblem> problems;
};

/// A command lowered without its values: they are slots, numbered in
/// order over the value pieces and then the user args. Steps of one
/// component share it and differ only in the values filled in.
struct CompiledCommand {
  std::string shell;  ///< as LoweredCommand::shell: it holds no value
  bool needs_shell = false;
  /// A part of a word: literal text, or the value of a slot.
  struct Part {
    std::string text;
    int slot = -1;
  };
  /// The words when no shell is needed.
  std::vector<std::vector<Part>> words;
  /// Slots inside $(( )): their values must be integers.
  struct Arith {
    int slot;
    llvm::SMRange range;
  };
  std::vector<Arith> arithmetic;
  /// Problems that do not depend on the values.
  std::vector<CommandProblem> problems;
};

/// Lowers a command template. `user_args` are the flags bare
/// `$PAI_USER_ARGS` stands for (in declaration order). Values in the pieces
/// and user args are not read.
CompiledCommand compileCommand(llvm::ArrayRef<CommandPiece> pieces,
                               llvm::ArrayRef<UserArg> user_args);

/// Fills the values of the slots in (`values[slot]`).
LoweredCommand instantiateCommand(const CompiledCommand& c,
                                  llvm::ArrayRef<std::string> values);
/// instantiateCommand() written over `shell`, `argv` and `problems` (their
/// storage reused).
void instantiateCommandTo(const CompiledCommand& c,
                          llvm::ArrayRef<std::string> values,
                          std::string& shell, std::vector<std::string>& argv,
                          std::vector<CommandProblem>& problems);

/// compileCommand() and instantiateCommand() with the pieces' values.
LoweredCommand lowerCommand(llvm::ArrayRef<CommandPiece> pieces,
                            llvm::ArrayRef<UserArg> user_args);

/// Splits a template into words without a shell (parallel steps'
/// program_arguments): quotes are removed, each value is kept exactly as it
/// is, whatever quotes surround it, and nothing is expanded.
std::vector<std::string> splitWords(llvm::ArrayRef<CommandPiece> pieces);

}  // namespace pipec::lowering
