// The one name-to-environment mangling policy, used by every backend and the
// runtime.
#pragma once

#include <string>

#include "llvm/ADT/StringRef.h"

namespace pipec::ir {

class DiagnosticEngine;
struct Component;

/// Upper-cases `name` and replaces every character outside [A-Z0-9_] with
/// '_': "learning-rate" -> "LEARNING_RATE".
std::string mangleName(llvm::StringRef name);

/// `PAI_INPUT_{NAME}`.
std::string inputEnvVar(llvm::StringRef channel);
/// `PAI_OUTPUT_{NAME}`.
std::string outputEnvVar(llvm::StringRef channel);
/// `PAI_HPS_{NAME}`.
std::string hpsEnvVar(llvm::StringRef param);

/// Reports every pair of inputs, outputs or hyperparameters of `c` whose
/// environment variables collide, naming both declarations. Returns true when
/// there was none.
bool checkEnvCollisions(const Component& c, DiagnosticEngine& diags);

}  // namespace pipec::ir
