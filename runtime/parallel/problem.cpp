// Formatting and reporting of engine problems.
#include "runtime/parallel/problem.h"

namespace pipec::runtime::parallel {

std::string Problem::message() const {
  return fmt::format(fmt::runtime(ir::diagInfo(kind).format), a, b);
}

void Problem::report(ir::DiagnosticEngine& diags,
                     const std::string& origin) const {
  auto d = diags.report(llvm::SMRange(), kind, a, b);
  if (!origin.empty()) d.origin(origin);
}

}  // namespace pipec::runtime::parallel
