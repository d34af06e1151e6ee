// A problem the engine reports to the user: a diagnostic kind and its two
// arguments.
#pragma once

#include <string>

#include "ir/diagnostics.h"

namespace pipec::runtime::parallel {

/// The kinds a Problem may carry: every E12xx kind takes two texts.
using ProblemKind = ir::DiagDef<ir::diag::Text, ir::diag::Text>;

struct Problem {
  Problem() = default;
  /// `kind` is a `ir::diag::NAME` of two texts (checked when compiled).
  Problem(const ProblemKind& kind, std::string a, std::string b)
      : kind(kind.kind()), a(std::move(a)), b(std::move(b)), def_(&kind) {}

  ir::DiagKind kind = ir::DiagKind::ParallelStepFailed;
  std::string a, b;
  bool empty() const { return a.empty() && b.empty(); }
  /// The message as the diagnostic prints it (without the code).
  std::string message() const;
  /// Reports it at `origin` ("pipeline.yaml:12:5", or empty).
  void report(ir::DiagnosticEngine& diags, const std::string& origin) const;

 private:
  const ProblemKind* def_ = &ir::diag::ParallelStepFailed;
};

}  // namespace pipec::runtime::parallel
