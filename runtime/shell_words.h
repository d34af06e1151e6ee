// Splitting a command line into words, and telling whether it needs a shell.
#pragma once

#include <string>
#include <vector>

#include "llvm/ADT/StringRef.h"

namespace pipec::runtime {

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

}  // namespace pipec::runtime
