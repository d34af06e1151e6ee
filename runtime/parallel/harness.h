// The Python sources pipec writes out at run time (embedded from
// stdlib/harness/ when pipec is built).
#pragma once

#include "llvm/ADT/StringRef.h"

namespace pipec::runtime::parallel {

/// stdlib/harness/pipec_harness.py: the worker of a parallel step.
llvm::StringRef harnessSource();

}  // namespace pipec::runtime::parallel
