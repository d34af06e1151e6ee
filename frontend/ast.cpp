// Small helpers on AST nodes.
#include "frontend/ast.h"

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
