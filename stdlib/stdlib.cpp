// Looks up the embedded standard library components.
#include "stdlib/stdlib.h"

#include <algorithm>
#include <cstddef>

namespace pipec::stdlib {

namespace detail {
struct Embedded {
  const char* name;
  const char* text;
  std::size_t size;
};
extern const Embedded kEmbedded[];
}  // namespace detail

std::optional<llvm::StringRef> source(llvm::StringRef name) {
  for (const detail::Embedded* e = detail::kEmbedded; e->name; ++e)
    if (name == e->name) return llvm::StringRef(e->text, e->size);
  return std::nullopt;
}

std::vector<llvm::StringRef> names() {
  std::vector<llvm::StringRef> out;
  for (const detail::Embedded* e = detail::kEmbedded; e->name; ++e)
    out.push_back(e->name);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace pipec::stdlib
