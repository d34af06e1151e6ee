// Did-you-mean suggestions by edit distance.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

namespace pipec::ir {

/// The candidate closest to `word` within a distance that still looks like a
/// typo (case differences are free), or nothing.
std::optional<std::string> closestMatch(
    llvm::StringRef word, llvm::ArrayRef<llvm::StringRef> candidates);
std::optional<std::string> closestMatch(
    llvm::StringRef word, const std::vector<std::string>& candidates);

/// "; did you mean 'x'?" or "".
std::string didYouMean(llvm::StringRef word,
                       llvm::ArrayRef<llvm::StringRef> candidates);
std::string didYouMean(llvm::StringRef word,
                       const std::vector<std::string>& candidates);

}  // namespace pipec::ir
