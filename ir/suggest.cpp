// Did-you-mean suggestions by edit distance: the one search pipec uses.
#include "ir/suggest.h"

#include <algorithm>

namespace pipec::ir {

std::optional<std::string> closestMatch(
    llvm::StringRef word, llvm::ArrayRef<llvm::StringRef> candidates) {
  std::string lower = word.lower();
  unsigned best = ~0u;
  std::optional<std::string> result;
  unsigned limit =
      word.size() <= 3 ? 1 : std::max<unsigned>(2, unsigned(word.size()) / 3);
  for (llvm::StringRef c : candidates) {
    if (c == word) continue;
    unsigned d = llvm::StringRef(lower).edit_distance(c.lower(), true, limit);
    if (d <= limit && d < best) {
      best = d;
      result = c.str();
    }
  }
  return result;
}

std::optional<std::string> closestMatch(
    llvm::StringRef word, const std::vector<std::string>& candidates) {
  std::vector<llvm::StringRef> refs(candidates.begin(), candidates.end());
  return closestMatch(word, llvm::ArrayRef<llvm::StringRef>(refs));
}

std::string didYouMean(llvm::StringRef word,
                       llvm::ArrayRef<llvm::StringRef> candidates) {
  if (auto m = closestMatch(word, candidates))
    return "; did you mean '" + *m + "'?";
  return "";
}

std::string didYouMean(llvm::StringRef word,
                       const std::vector<std::string>& candidates) {
  std::vector<llvm::StringRef> refs(candidates.begin(), candidates.end());
  return didYouMean(word, llvm::ArrayRef<llvm::StringRef>(refs));
}

}  // namespace pipec::ir
