// Small helpers on AST nodes, and did-you-mean suggestions.
#include "frontend/ast.h"

#include "frontend/suggest.h"

namespace pipec::ast {

std::string Ref::spelling() const {
  std::string s;
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (i) s.push_back('.');
    s += path[i].text;
  }
  return s;
}

bool TemplateString::hasRefs() const {
  for (const TemplatePart& p : parts)
    if (p.kind == TemplatePart::Kind::Ref) return true;
  return false;
}

const Ref* TemplateString::singleRef() const {
  const Ref* found = nullptr;
  for (const TemplatePart& p : parts) {
    if (p.kind == TemplatePart::Kind::Ref) {
      if (found) return nullptr;
      found = &p.ref;
    } else if (!llvm::StringRef(p.text).trim().empty() || p.group >= 0) {
      return nullptr;
    }
  }
  return found;
}

}  // namespace pipec::ast

namespace pipec::frontend {

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

}  // namespace pipec::frontend
