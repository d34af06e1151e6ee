// The parallel-run settings Azure passes as program arguments
// (`--error_threshold 5`, `--copy_logs_to_parent=True`): one reader for
// sema (literal values), the lowering (bound values) and nothing else.
#pragma once

#include <string>
#include <vector>

#include "ir/ir.h"
#include "llvm/ADT/ArrayRef.h"

namespace pipec::ir {

/// One settings flag found in program arguments.
struct ArgumentSetting {
  std::string flag;   ///< without the dashes: "error_threshold"
  std::string value;  ///< the value as written
  bool has_value = false;
  std::size_t word = 0;        ///< index of the flag's word
  std::size_t value_word = 0;  ///< index of the value's word (== word for =)
};

/// The words of a program_arguments template split at blanks, each binding
/// as "\x01" (its value is known only once the step is lowered).
std::vector<std::string> argumentWords(const Template& t);

/// Whether `flag` (without dashes) is a settings flag.
bool isArgumentSetting(llvm::StringRef flag);

/// The settings flags in `words`, as `--flag VALUE` or `--flag=VALUE`. A
/// flag followed by another `--word` or by nothing has no value. The flags
/// stay in the arguments: entry scripts parse them with parse_known_args.
std::vector<ArgumentSetting> findArgumentSettings(
    llvm::ArrayRef<std::string> words);

/// Applies `a` to `s`. Timeouts are seconds unless they carry a unit.
/// Returns "" on success, else what the value must be ("an integer, -1 or
/// more").
std::string applyArgumentSetting(const ArgumentSetting& a, ParallelSettings& s);

}  // namespace pipec::ir
