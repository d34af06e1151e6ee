// Small helpers on AST nodes.
#include "frontend/ast.h"

#include "ir/settings.h"

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

void Settings::set(const ir::SettingInfo& info, Scalar value, SMRange key) {
  for (Setting& s : given)
    if (s.info == &info) {
      s.value = std::move(value);
      s.key = key;
      return;
    }
  given.push_back(Setting{&info, std::move(value), key});
}

const Setting* Settings::find(llvm::StringRef name) const {
  for (const Setting& s : given)
    if (s.info->name == name) return &s;
  return nullptr;
}

}  // namespace pipec::ast
