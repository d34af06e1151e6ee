// Formatting and reporting of engine problems.
#include "runtime/parallel/problem.h"

namespace pipec::runtime::parallel {

std::string Problem::message() const { return def_->message(a, b); }

void Problem::report(ir::DiagnosticEngine& diags,
                     const std::string& origin) const {
  auto d = diags.report(llvm::SMRange(), *def_, a, b);
  if (!origin.empty()) d.origin(origin);
}

}  // namespace pipec::runtime::parallel
