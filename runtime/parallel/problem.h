// A problem the engine reports to the user: a diagnostic kind and its two
// arguments.
#pragma once

#include <string>

#include "ir/diagnostics.h"

namespace pipec::runtime::parallel {

/// Every E12xx kind takes two arguments.
struct Problem {
  ir::DiagKind kind = ir::DiagKind::ParallelStepFailed;
  std::string a, b;
  bool empty() const { return a.empty() && b.empty(); }
  /// The message as the diagnostic prints it (without the code).
  std::string message() const;
  /// Reports it at `origin` ("pipeline.yaml:12:5", or empty).
  void report(ir::DiagnosticEngine& diags, const std::string& origin) const;
};

}  // namespace pipec::runtime::parallel
